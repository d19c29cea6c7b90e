// Comparisons as language-model data: SFT on the chosen responses (Preferred-FT) reads exactly the
// chosen responses of each split, `both` adds the rejected ones, and repeats are used once.
import Foundation
import PlumbData
@testable import PlumbStages
import PlumbStore
import PlumbTensor
import XCTest

final class ComparisonResponsesTests: XCTestCase {
    func comparison(_ id: String, _ prompt: String, _ chosen: String, _ rejected: String) -> Comparison {
        Comparison(id: id, prompt: Prompt(messages: [.user(prompt)]), chosen: chosen, rejected: rejected, dimension: .helpfulness,
                   strength: nil, chosenSafe: nil, rejectedSafe: nil, source: SourceRef(file: "test", line: 1))
    }

    func testChosenAndBothSelectTheRightResponsesOnce() {
        let cs = [comparison("a", "What is 2 plus 2?", "2 plus 2 is 4.", "It is 5."),
                  comparison("b", "What is 2 plus 2?", "2 plus 2 is 4.", "I can't help."),   // same prompt and chosen again
                  comparison("c", "Name the river of Upton.", "Upton lies on the Dimmet river.", "No idea.")]
        let chosen = ComparisonResponses.chosen.dialogues(cs)
        XCTAssertEqual(chosen.map(\.response), ["2 plus 2 is 4.", "Upton lies on the Dimmet river."])
        XCTAssertEqual(chosen.map { $0.prompt.first?.content }, ["What is 2 plus 2?", "Name the river of Upton."])
        let both = ComparisonResponses.both.dialogues(cs)
        XCTAssertEqual(both.map(\.response), ["2 plus 2 is 4.", "It is 5.", "I can't help.", "Upton lies on the Dimmet river.", "No idea."])
    }

    /// A multi-turn battle: each side's response follows its own earlier turns, in the SFT dialogues
    /// and in the reward model's token sequences.
    func testMultiTurnComparisonsUseEachSidesHistory() throws {
        var c = comparison("m", "Hi", "A joke: the cat kept an eye on the mouse.", "Cats are great.")
        c.details.chosenHistory = [.assistant("Hey there."), .user("Tell me a joke")]
        c.details.rejectedHistory = [.assistant("Hello!"), .user("Tell me a joke")]
        let both = ComparisonResponses.both.dialogues([c])
        XCTAssertEqual(both.map(\.prompt), [[.user("Hi"), .assistant("Hey there."), .user("Tell me a joke")],
                                            [.user("Hi"), .assistant("Hello!"), .user("Tell me a joke")]])
        let f = try StageFixtures.fixture()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
        let pairs = try RewardPairs.encode([c], templated: templated, seqLen: 512, margins: .none)
        XCTAssertEqual(pairs.pairs[0].chosen, try templated.encode(prompt: c.chosenPrompt, response: c.chosen).tokens)
        XCTAssertEqual(pairs.pairs[0].rejected, try templated.encode(prompt: c.rejectedPrompt, response: c.rejected).tokens)
        XCTAssertNotEqual(pairs.pairs[0].chosenResponseStart, try templated.encode(prompt: c.prompt.messages, response: c.chosen).promptCount)
    }

    /// Through the stage's loader: the training targets are the chosen responses of comparisons-train
    /// only, and validation comes from comparisons-validation.
    func testStageLoaderTrainsOnChosenResponsesOfEachSplit() throws {
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("comparison-responses-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: root) }
        let stage = try StageWriter.begin(runsRoot: root, run: "r", stage: "import", kind: "import", config: ["test": true])
        let splits = [("train", [comparison("t1", "What is 3 plus 4?", "3 plus 4 is 7.", "3 plus 4 is 9."),
                                 comparison("t2", "Count the letters in cat.", "The word cat has 3 letters.", "I won't.")]),
                      ("validation", [comparison("v1", "What is 1 plus 1?", "1 plus 1 is 2.", "1 plus 1 is 3.")])]
        for (split, records) in splits {
            let shards = try stage.shardWriter(name: "comparisons-\(split)")
            for r in records { try shards.append(r) }
            try stage.addOutput(name: "comparisons-\(split)", files: try shards.finish())
        }
        try stage.complete()
        let tokenizer = try Tokenizer(modelFile: f.tokenizer.path)
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: .plumbline)
        let inputs = StageInputs(["tokenizer": [f.tokenizer], "comparisons": [root.appendingPathComponent("r/import")]])
        let loaded = try LanguageModelStage.loadExamples(SFTStage.Parameters(), mask: SFTStage.mask, inputs: inputs,
                                                         tokenizer: tokenizer, templated: templated)
        func targets(_ set: TokenExampleSet) -> [[Int32]] { set.examples.map { $0.targets.filter { $0 != CrossEntropy.ignoreIndex } } }
        XCTAssertEqual(Set(targets(loaded.train)), Set(try ["3 plus 4 is 7.", "The word cat has 3 letters."].map { try templated.encodeResponse($0) }))
        XCTAssertEqual(targets(loaded.validation), [try templated.encodeResponse("1 plus 1 is 2.")])
        XCTAssertEqual(loaded.files.count, 2, "both comparison shard sets are inputs of the stage")
    }
}
