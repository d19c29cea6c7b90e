// Token examples and batch plans for language-model training: targets sit exactly on the response,
// windows lose no target, and a plan covers every example once per epoch.
import XCTest
import PlumbData
import PlumbTensor
@testable import PlumbStages

final class LanguageModelDataTests: XCTestCase {
    func templated() throws -> TemplatedTokenizer {
        let f = try StageFixtures.fixture()
        return try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
    }

    /// SFT targets are exactly the response's tokens (and EOS): the prompt predicts nothing.
    func testResponseOnlyTargetsAreTheResponseTokens() throws {
        let t = try templated()
        let prompt = [Message.user("What is 7 plus 5?")], response = "7 plus 5 is 12."
        let set = try TokenExamples.dialogues([(prompt, response)], templated: t, seqLen: 64)
        let example = try XCTUnwrap(set.examples.first)
        let predicted = example.targets.filter { $0 != CrossEntropy.ignoreIndex }
        XCTAssertEqual(predicted, try t.encodeResponse(response), "targets must be the response tokens followed by EOS")
        let promptCount = try t.encodePrompt(prompt).count
        XCTAssertEqual(example.targets.prefix(promptCount - 1).allSatisfy { $0 == CrossEntropy.ignoreIndex }, true)
        // Each target is the next token of the whole sequence.
        let whole = example.tokens + [example.targets.last!]
        for (i, y) in example.targets.enumerated() where y != CrossEntropy.ignoreIndex { XCTAssertEqual(y, whole[i + 1]) }
    }

    /// A prompt longer than the window leaves nothing to learn: the dialogue is dropped and counted.
    func testOverlongPromptIsDroppedAndCounted() throws {
        let t = try templated()
        let long = String(repeating: "Brindle lies on the Ashwater river. ", count: 20)
        let set = try TokenExamples.dialogues([([.user(long)], "Yes.")], templated: t, seqLen: 16)
        XCTAssertEqual(set.examples.count, 0)
        XCTAssertEqual(set.droppedTooLong, 1)
    }

    /// Pretraining windows overlap by one token, so every next-token target of the passage appears once.
    func testPassageWindowsKeepEveryTarget() throws {
        let f = try StageFixtures.fixture()
        let tokenizer = try Tokenizer(modelFile: f.tokenizer.path)
        let text = String(repeating: "The flag of Inchbury is yellow. ", count: 12)
        let ids = [Int32(1)] + (try tokenizer.encode(text)) + [Int32(2)]
        let set = try TokenExamples.passages([text], tokenizer: tokenizer, bos: 1, eos: 2, seqLen: 16)
        XCTAssertGreaterThan(set.examples.count, 2)
        XCTAssertTrue(set.examples.allSatisfy { $0.tokens.count <= 16 })
        XCTAssertEqual(set.examples.flatMap(\.targets), Array(ids.dropFirst()))
        XCTAssertEqual(set.examples.flatMap(\.tokens), Array(ids.dropLast()))
    }

    /// Every example appears exactly once per epoch, micro-batches fit the batch shape, and the
    /// same seed gives the same plan while another seed gives another order.
    func testBatchPlanCoversEachExampleOncePerEpoch() throws {
        var rng = SeededRNG(seed: 9)
        let lengths = (0..<137).map { _ in 1 + Int(rng.next() % 40) }
        let plan = try BatchPlan(lengths: lengths, rows: 3, seqLen: 48, layout: .packed, accumulation: 2, epochs: 2, seed: 5)
        let perEpoch = plan.steps.flatMap { $0 }.flatMap { $0 }
        XCTAssertEqual(perEpoch.count, 2 * lengths.count)
        XCTAssertEqual(Set(perEpoch.prefix(lengths.count)).count, lengths.count)
        for micro in plan.steps.flatMap({ $0 }) {
            let examples = try micro.map { try BatchLayout.Example(tokens: [Int32](repeating: 0, count: lengths[$0]), targets: [Int32](repeating: 0, count: lengths[$0])) }
            XCTAssertNoThrow(try BatchLayout.packed(examples, batchSize: 3, seqLen: 48, padToken: 0), "a planned micro-batch must fit")
        }
        XCTAssertEqual(plan, try BatchPlan(lengths: lengths, rows: 3, seqLen: 48, layout: .packed, accumulation: 2, epochs: 2, seed: 5))
        XCTAssertNotEqual(plan.steps, try BatchPlan(lengths: lengths, rows: 3, seqLen: 48, layout: .packed, accumulation: 2, epochs: 2, seed: 6).steps)
    }
}
