// SampleScores (`plumb eval sample-scores`): every sample of an rs stage, in order, with the stored
// scores copied, the oracle's verdict on its text, and further reward models' scores that reproduce
// the stage's own scores where the text re-encodes to the sampled tokens.
import Foundation
import PlumbData
import PlumbOracle
import PlumbEval
@testable import PlumbStages
import XCTest

final class SampleScoresTests: XCTestCase {
    func testRowsFollowTheSamplesAndExtraModelsReproduceTheStoredScores() throws {
        let i = try RejectionSamplingTests.makeInputs(stopping: true)
        let stage = try RejectionSamplingTests.run(i, RejectionSamplingTests.parameters(perShard: 4), run: "sample-scores", stage: "rs")
        let out = i.runs.appendingPathComponent("sample-scores.jsonl")
        try SampleScores.write(try SampleScores.rows(stage: stage, tokenizer: i.tokenizer, template: .plumbline,
                                                     models: [.init(name: "h", directory: i.helpfulness), .init(name: "s", directory: i.safety)],
                                                     conservative: []), to: out)
        let samples = try StageRecordReader.read(RejectionSample.self, output: "samples", from: [stage]).records
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        let rows = try lines.map { try JSONDecoder().decode(SampleScoreRow.self, from: Data($0.utf8)) }
        XCTAssertEqual(rows.count, samples.count)
        XCTAssertEqual(rows.count, 44, "11 prompts x k = 4")

        // The reference for the extra scores: each sample alone (one row, no packing) through the
        // reward model, its text encoded under the chat template (the response ends on end-of-sequence).
        // Packing is block-diagonal, so the packed scores must agree to Float rounding (1e-4 on scores
        // of order 1). The stage's own stored scores are of the sampled tokens, which a random policy
        // rarely writes in the tokenizer's canonical pieces; docs/overoptimisation.md measures the two
        // on a trained policy.
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: i.tokenizer.path), template: .plumbline)
        let eos = templated.info.eosID
        for (name, dir) in [("h", i.helpfulness), ("s", i.safety)] {
            let model = try StageModel.load(dir, heads: .reward)
            let alone = try RewardScorer(model: model, seqLen: model.config.maxSeqLen, padToken: eos)
            for (row, s) in zip(rows, samples) {
                let sequence = try templated.encode(prompt: s.prompt.messages, response: s.text)
                XCTAssertEqual(sequence.tokens.last, eos)
                let expected = try alone.scores([sequence.tokens])[0]
                XCTAssertEqual(row.scores[name]!, expected, accuracy: 1e-4, "\(name) \(s.promptID)#\(s.sample)")
            }
        }
        for (row, s) in zip(rows, samples) {
            XCTAssertEqual(row.promptID, s.promptID)
            XCTAssertEqual(row.sample, s.sample)
            XCTAssertEqual(row.helpfulness, s.helpfulness)
            XCTAssertEqual(row.safety, s.safety)
            XCTAssertEqual(row.combined, s.combined)
            XCTAssertEqual(row.finished, s.stop == "eos")
            let verdict = try OracleJudge.judge(prompt: s.prompt.messages.last!.content, response: s.text)
            XCTAssertEqual(row.kind, verdict.kind.rawValue)
            XCTAssertEqual(row.goldScore, verdict.score)
            XCTAssertEqual(row.violation, verdict.kind == .harmful && !verdict.quality.refused)
            XCTAssertEqual(row.falseRefusal, verdict.kind == .borderline && verdict.quality.refused)
            XCTAssertEqual(row.helpful, verdict.helpful)
        }
        XCTAssertGreaterThan(Set(rows.map(\.kind)).count, 1, "the fixture's prompts should cover more than one kind")
    }
}
