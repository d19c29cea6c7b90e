// The flaw rates planted in SFT demonstrations, measured by the oracle from the written files, equal
// the stated rates (within 4 binomial standard errors: a false failure has probability below 1e-4)
// and equal exactly what the generator says it planted.

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class FlawRateTests: XCTestCase {
    func testOracleMeasuresTheStatedFlawRates() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let measured = try MeasuredSFTFlaws(try fixture.sft())
        let flaws = TaskSettings.quick.sftFlaws
        assertRate(measured.wrong, of: measured.helpfulness, equals: flaws.wrongAnswer, "wrong answers")
        assertRate(measured.rambling, of: measured.helpfulness, equals: flaws.rambling, "rambling")
        assertRate(measured.compliance, of: measured.harmful, equals: flaws.harmfulCompliance, "harmful compliance")
        assertRate(measured.overRefusal, of: measured.borderline, equals: flaws.overRefusal, "over-refusals")
        let total = measured.helpfulness + measured.harmful + measured.borderline
        assertRate(measured.harmful, of: total, equals: TaskSettings.quick.promptMix.harmful, "harmful prompt share")
        assertRate(measured.borderline, of: total, equals: TaskSettings.quick.promptMix.borderline, "look-alike prompt share")
    }

    func testOracleFindsExactlyWhatTheGeneratorPlanted() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let measured = try MeasuredSFTFlaws(try fixture.sft())
        let planted = fixture.manifest.statistics.sft
        XCTAssertEqual(measured.helpfulness, planted.helpfulness)
        XCTAssertEqual(measured.wrong, planted.wrongAnswers)
        XCTAssertEqual(measured.rambling, planted.rambling)
        XCTAssertEqual(measured.compliance, planted.harmfulCompliance)
        XCTAssertEqual(measured.overRefusal, planted.overRefusals)
    }

    /// Every concise response is within the limit and every rambling one beyond it, for every kind.
    func testConciseAndRamblingResponsesAreSeparatedByTheLimit() throws {
        var rng = TaskRandom(seed: 7)
        var longestConcise = 0, shortestRambling = Int.max, longest = 0
        for _ in 0..<3000 {
            let spec = PromptSampler.sample(.training, mix: TaskSettings.standard.promptMix, rng: &rng)
            let traits = ResponseTraits(refuses: rng.chance(0.3), correct: rng.chance(0.5), rambles: rng.chance(0.5))
            let words = ResponseStyle.wordCount(ResponseWriter.write(spec, traits, rng: &rng))
            if traits.rambles { shortestRambling = min(shortestRambling, words) } else { longestConcise = max(longestConcise, words) }
            longest = max(longest, words)
        }
        XCTAssertLessThanOrEqual(longestConcise, ResponseStyle.conciseWordLimit)
        XCTAssertGreaterThan(shortestRambling, ResponseStyle.conciseWordLimit)
        XCTAssertLessThanOrEqual(longest, 40, "responses stay within ~40 words")
    }
}

/// `plumb task audit` (TaskAudit) reports what the tests above measure, within the same tolerances.
final class TaskAuditTests: XCTestCase {
    func testAuditMatchesTheTestsMeasurements() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let audit = try TaskAudit.run(directory: fixture.directory)
        let measured = try MeasuredSFTFlaws(try fixture.sft())
        XCTAssertEqual(audit.sftWrongAnswers.measured.count, Double(measured.wrong))
        XCTAssertEqual(audit.sftWrongAnswers.measured.total, measured.helpfulness)
        XCTAssertEqual(audit.sftRambling.measured.count, Double(measured.rambling))
        XCTAssertEqual(audit.sftHarmfulCompliance.measured.count, Double(measured.compliance))
        XCTAssertEqual(audit.sftOverRefusals.measured.count, Double(measured.overRefusal))
        XCTAssertEqual(audit.comparisonDisagreement.measured.count, Double(fixture.manifest.statistics.comparisons.flipped))
        for check in [audit.sftWrongAnswers, audit.sftRambling, audit.sftHarmfulCompliance, audit.sftOverRefusals,
                      audit.comparisonDisagreement, audit.safetyLabelErrors] {
            XCTAssertLessThan(abs(check.standardErrors), 4)
        }
        XCTAssertLessThan(abs(audit.rankingPairAgreement.standardErrors), 5, "ranking pairs are correlated within a task")
        XCTAssertEqual(audit.evalPrompts, TaskSettings.quick.sizes.evalPrompts)
        XCTAssertEqual(audit.evalPromptsInTraining, 0)
        XCTAssertEqual(audit.evalPromptsNotHeldOut, 0)
    }

    func testAuditNamesTheFileOfABadRecord() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-audit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: fixture.directory, to: copy)
        let bad = #"{"id": "x", "messages": [{"role": "user", "content": "What is the capital of France?"}, {"role": "assistant", "content": "Paris"}], "tags": []}"#
        try (bad + "\n").write(to: copy.appendingPathComponent(TaskFiles.sft), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TaskAudit.run(directory: copy)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(TaskFiles.sft) && text.contains("id x"), text)
        }
    }
}
