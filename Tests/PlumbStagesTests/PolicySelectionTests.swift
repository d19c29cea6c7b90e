// `select` end to end on the quick task's validation prompts with small random policies (the rule
// alone: PlumbEvalTests/PolicySelectionRuleTests).
import Foundation
import PlumbEval
import PlumbModel
import PlumbStages
import PlumbStore
import XCTest

final class PolicySelectionTests: XCTestCase {
    /// Two random policies and a copy of the reference: the copy ties at exactly 1/2 with no answer
    /// changed, the stage's model is the chosen policy's bit for bit, and a rerun gives the same choice.
    func testStageWritesTheChosenPolicyAndItsReasons() throws {
        let f = try StageFixtures.fixture()
        let runs = f.root.appendingPathComponent("select-runs")
        try? FileManager.default.removeItem(at: runs)
        let config = LlamaConfig(dim: 32, hiddenDim: 88, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 64)
        func policy(_ name: String, seed: UInt64, vocabulary: Int = 512) throws -> URL {
            let stage = try StageWriter.begin(runsRoot: runs, run: "m1", stage: name, kind: "sft", config: ["synthetic": true])
            var config = config
            config.vocabSize = vocabulary
            try StageModel.save(try LlamaModel(config: config, heads: .lm, seed: seed), to: stage)
            try stage.complete()
            return stage.directory
        }
        let reference = try policy("sft", seed: 1), copy = try policy("copy", seed: 1)
        let a = try policy("a", seed: 2), b = try policy("b", seed: 3)
        var p = PolicySelectionStage.Parameters()
        (p.maxNewTokens, p.limit) = (6, 24)
        let inputs = StageInputs(["candidates": [copy, a, b], "reference": [reference], "tokenizer": [f.tokenizer],
                                  "validation-prompts": [f.task.appendingPathComponent("prompts-validate.jsonl")], "validation-task": [f.task]])
        func run(_ name: String) throws -> PolicySelection {
            try StageRun.run(PolicySelectionStage.self, p, inputs: inputs, location: StageLocation(runsRoot: runs, run: "m1", stage: name))
        }
        let first = try run("select"), second = try run("select-again")
        XCTAssertEqual(first, second, "the same inputs and seed give the same figures and choice")
        XCTAssertEqual(first.candidates.map(\.name), ["m1/sft", "m1/copy", "m1/a", "m1/b"])
        XCTAssertEqual(first.prompts, 24)
        XCTAssertEqual(first.candidates[1].winRate, 0.5, "identical answers tie")
        XCTAssertEqual(first.candidates[1].changedShare, 0)
        let expected = [reference, copy, a, b][first.chosenIndex]
        let chosen = try StageModel.load(runs.appendingPathComponent("m1/select"))
        let source = try StageModel.load(expected)
        func weights(_ m: LlamaModel) -> [Float] { Array(UnsafeBufferPointer(start: m.parameters.values.base, count: m.parameters.totalCount)) }
        XCTAssertEqual(weights(chosen), weights(source))
        let written = try JSONDecoder().decode(PolicySelection.self, from: Data(contentsOf: runs.appendingPathComponent("m1/select/selection.json")))
        XCTAssertEqual(written, first)
        XCTAssertThrowsError(try StageRun.run(PolicySelectionStage.self, p, inputs: StageInputs(inputs.paths.merging(["candidates": [a, a]]) { $1 }),
                                              location: StageLocation(runsRoot: runs, run: "m1", stage: "twice"))) {
            XCTAssertTrue(String(describing: $0).contains("given twice"), String(describing: $0))
        }
        let other = try policy("other-vocabulary", seed: 4, vocabulary: 256)
        XCTAssertThrowsError(try StageRun.run(PolicySelectionStage.self, p, inputs: StageInputs(inputs.paths.merging(["candidates": [a, other]]) { $1 }),
                                              location: StageLocation(runsRoot: runs, run: "m1", stage: "vocabulary"))) {
            XCTAssertTrue(String(describing: $0).contains("has a vocabulary of 256, the reference"), String(describing: $0))
        }
    }
}
