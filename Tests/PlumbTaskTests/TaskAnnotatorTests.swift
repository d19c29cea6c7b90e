// The annotators of `plumb task annotate` on responses they did not write: rankings agree with the
// oracle at the rate their ranking noise implies; edits are responses the oracle finds ideal, the
// same for the same seed and key; prompts outside the task world are refused.

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class TaskAnnotatorTests: XCTestCase {
    /// Pairs of candidates ranked by the annotators: correctly ordered pairs X against the expected
    /// sum of Phi(gap / (noise sqrt 2)), within 4 standard errors.
    func testRankingsAgreeWithTheOracleAtTheStatedNoise() throws {
        let settings = TaskSettings.quick
        let annotator = TaskAnnotator(settings: settings.annotation, seed: 9)
        var rng = TaskRandom(seed: 4)
        var agreed = 0.0, expected = 0.0, variance = 0.0
        for i in 0..<3_000 {
            let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
            let pair = Candidate.distinctSet(spec, count: 2, settings.candidates, rng: &rng).candidates.map(\.text)
            let scores = pair.map { OracleJudge.judge(spec, response: $0).score }
            guard scores[0] != scores[1] else { continue }
            let order = try annotator.rank(prompt: spec.text, responses: pair, key: "p\(i)").order
            agreed += scores[order[0]] > scores[order[1]] ? 1 : 0
            let p = SimulatedAnnotator.rankingAgreementProbability(gap: scores[0] - scores[1], noise: settings.annotation.rankingNoise)
            expected += p
            variance += p * (1 - p)
        }
        XCTAssertGreaterThan(expected, 1_000)
        XCTAssertEqual(agreed, expected, accuracy: 4 * variance.squareRoot())
    }

    /// Pairwise judgements of candidate pairs (`--as comparisons`): choices against the oracle flip at
    /// the panel's rates (the sum of each judge's disagreement probability, within 4 standard errors),
    /// safety labels are wrong at `safetyLabelNoise`, the dimension is the prompt's, and equal true
    /// scores give weak preferences; the same key gives the same judgements.
    func testPairwiseJudgementsFlipAtThePanelsRates() throws {
        let settings = TaskSettings.quick
        let annotator = TaskAnnotator(settings: settings.annotation, seed: 9)
        var rng = TaskRandom(seed: 6)
        var flipped = 0.0, expected = 0.0, variance = 0.0, labels = 0, wrongLabels = 0, tied = 0, tiedWeak = 0
        for i in 0..<3_000 {
            let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
            let texts = (0..<3).map { _ in Candidate.sample(spec, settings.candidates, rng: &rng).text }
            let judged = try annotator.compare(prompt: spec.text, responses: texts, key: "p\(i)", pairs: 2)
            XCTAssertEqual(judged, try annotator.compare(prompt: spec.text, responses: texts, key: "p\(i)", pairs: 2))
            XCTAssertEqual(judged.count, 2)
            XCTAssertNotEqual(Set([judged[0].chosen, judged[0].rejected]), Set([judged[1].chosen, judged[1].rejected]), "distinct pairs")
            for p in judged {
                XCTAssertEqual(p.dimension, spec.kind.isSafety ? "safety" : "helpfulness")
                let chosen = OracleJudge.judge(spec, response: texts[p.chosen]), rejected = OracleJudge.judge(spec, response: texts[p.rejected])
                labels += 2
                wrongLabels += (p.chosenSafe == !chosen.violation ? 0 : 1) + (p.rejectedSafe == !rejected.violation ? 0 : 1)
                guard chosen.score != rejected.score else {
                    tied += 1
                    tiedWeak += p.strength == .negligiblyBetter || p.strength == .slightlyBetter ? 1 : 0
                    XCTAssertNil(p.agreesWithOracle)
                    continue
                }
                let (better, worse) = chosen.score > rejected.score ? (chosen, rejected) : (rejected, chosen)
                let q = p.annotator.disagreementProbability(betterWords: better.quality.wordCount, worseWords: worse.quality.wordCount)
                flipped += chosen.score < rejected.score ? 1 : 0
                XCTAssertEqual(p.agreesWithOracle, chosen.score > rejected.score)
                expected += q
                variance += q * (1 - q)
            }
        }
        XCTAssertGreaterThan(expected, 500)
        XCTAssertEqual(flipped, expected, accuracy: 4 * variance.squareRoot())
        assertRate(wrongLabels, of: labels, equals: settings.annotation.safetyLabelNoise, "wrong safety labels")
        XCTAssertEqual(Double(tiedWeak), Double(tied), accuracy: Double(tied) * 0.1 + 1, "ties perceive noise alone: weak preferences")
        let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
        XCTAssertEqual(try annotator.compare(prompt: spec.text, responses: ["4"], key: "one", pairs: 3), [], "one response: no pair")
        XCTAssertThrowsError(try annotator.compare(prompt: "Not a prompt of the task world", responses: ["a", "b"], key: "x", pairs: 1))
    }

    func testEditsAreIdealAndRepeatable() throws {
        let settings = TaskSettings.quick
        let annotator = TaskAnnotator(settings: settings.annotation, seed: 9)
        var rng = TaskRandom(seed: 5)
        for i in 0..<300 {
            let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
            let edit = try annotator.edit(prompt: spec.text, key: "p\(i)")
            let verdict = OracleJudge.judge(spec, response: edit.text)
            XCTAssertTrue(spec.kind == .harmful ? verdict.quality.refused : verdict.helpful, "\(spec.text) -> \(edit.text)")
            XCTAssertEqual(edit.text, try annotator.edit(prompt: spec.text, key: "p\(i)").text)
        }
        XCTAssertThrowsError(try annotator.edit(prompt: "Not a prompt of the task world", key: "x"))
    }
}
