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
