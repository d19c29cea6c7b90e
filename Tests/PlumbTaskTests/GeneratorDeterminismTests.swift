// Same seed -> same bytes; different seeds -> different data with the same statistics.

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class GeneratorDeterminismTests: XCTestCase {
    static let files = [TaskFiles.corpus, TaskFiles.sft, TaskFiles.comparisons, TaskFiles.rankings, TaskFiles.rankingsConfig,
                        TaskFiles.edits, TaskFiles.editsConfig, TaskFiles.rejectionSamplingPrompts, TaskFiles.ppoPrompts,
                        TaskFiles.validationPrompts, TaskFiles.evalPrompts, TaskFiles.rewardEval, TaskFiles.manifest]

    func testSameSeedGivesSameBytes() throws {
        let first = try TaskFixture.quick(seed: 1)
        let again = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-task-again-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: again) }
        try TaskFiles.write(TaskGenerator(settings: .quick, seed: 1).generate(), settings: .quick, seed: 1, to: again)
        for name in Self.files {
            let a = try first.bytes(name)
            let b = try Data(contentsOf: again.appendingPathComponent(name))
            XCTAssertFalse(a.isEmpty, name)
            XCTAssertEqual(a, b, "\(name) differs between two runs with seed 1")
        }
    }

    func testDifferentSeedsGiveDifferentData() throws {
        let one = try TaskFixture.quick(seed: 1), two = try TaskFixture.quick(seed: 2)
        for name in Self.files where !name.hasSuffix(".xml") {
            XCTAssertNotEqual(try one.bytes(name), try two.bytes(name), "\(name) is the same for seeds 1 and 2")
        }
        XCTAssertEqual(one.manifest.records, two.manifest.records, "record counts depend only on the settings")
    }

    /// Flaw rates measured by the oracle agree between seeds within 4 standard errors of a difference
    /// of two binomial shares: 4 * sqrt(p(1-p)(1/n1 + 1/n2)).
    func testDifferentSeedsHaveTheSameStatistics() throws {
        let a = try MeasuredSFTFlaws(try TaskFixture.quick(seed: 1).sft())
        let b = try MeasuredSFTFlaws(try TaskFixture.quick(seed: 2).sft())
        func same(_ ca: Int, _ na: Int, _ cb: Int, _ nb: Int, _ what: String) {
            let pa = Double(ca) / Double(na), pb = Double(cb) / Double(nb)
            let p = Double(ca + cb) / Double(na + nb)
            let tolerance = 4 * (p * (1 - p) * (1 / Double(na) + 1 / Double(nb))).squareRoot()
            XCTAssertEqual(pa, pb, accuracy: tolerance, "\(what): seed 1 \(pa), seed 2 \(pb), tolerance \(tolerance)")
        }
        let total = a.helpfulness + a.harmful + a.borderline
        same(a.harmful, total, b.harmful, b.helpfulness + b.harmful + b.borderline, "harmful share of SFT prompts")
        same(a.wrong, a.helpfulness, b.wrong, b.helpfulness, "wrong answers")
        same(a.rambling, a.helpfulness, b.rambling, b.helpfulness, "rambling")
        same(a.compliance, a.harmful, b.compliance, b.harmful, "harmful compliance")
        same(a.overRefusal, a.borderline, b.overRefusal, b.borderline, "over-refusal")
        let fa = try TaskFixture.quick(seed: 1).manifest.statistics.comparisons
        let fb = try TaskFixture.quick(seed: 2).manifest.statistics.comparisons
        same(fa.flipped, fa.count, fb.flipped, fb.count, "annotator flips")
    }
}
