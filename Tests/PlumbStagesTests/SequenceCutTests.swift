// One truncation rule for the reward model's pairs and the policy's likelihood (DPO, its reference,
// `rm eval --scoring likelihood`): a long comparison keeps the same last tokens and the same response
// start on both paths, and is counted as truncated by both.
import Foundation
import PlumbData
@testable import PlumbStages
import PlumbTensor
import XCTest

final class SequenceCutTests: XCTestCase {
    func testRuleCutsThePromptStartFirstThenTheResponseStart() {
        let example = TokenizedExample(tokens: Array(0..<20), promptCount: 12)
        let fits = SequenceCut.fit(example, seqLen: 20, use: .score)
        XCTAssertEqual(fits.cut, 0)
        XCTAssertEqual(fits.example, example)
        let prompt = SequenceCut.fit(example, seqLen: 10, use: .score)
        XCTAssertEqual(prompt.cut, 10)
        XCTAssertEqual(prompt.example, TokenizedExample(tokens: Array(10..<20), promptCount: 2))
        let next = SequenceCut.fit(example, seqLen: 10, use: .nextToken)
        XCTAssertEqual(next.example, TokenizedExample(tokens: Array(9..<20), promptCount: 3))
        let response = SequenceCut.fit(example, seqLen: 5, use: .score)
        XCTAssertEqual(response.example, TokenizedExample(tokens: Array(15..<20), promptCount: 0), "the response's end survives")
    }

    /// A comparison longer than the window, through `RewardPairs.encode` (reward model) and
    /// `DPOStage.encode` (policy and reference likelihood): the tokens each keeps are the last ones of
    /// the same sequence, the next-token path covering one more (its last token is only a target),
    /// the response starts agree, and both count the two cut responses.
    func testLongComparisonIsCutTheSameWayByBothPaths() throws {
        let f = try StageFixtures.fixture()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
        let long = Array(repeating: "Tell me about the river of Upton and the town beside it.", count: 8).joined(separator: " ")
        let c = Comparison(id: "long", prompt: Prompt(messages: [.user(long)]), chosen: "Upton lies on the Dimmet river.", rejected: "No idea.",
                           source: SourceRef(file: "test", line: 1))
        let full = try [c.chosen, c.rejected].map { try templated.encode(prompt: c.prompt.messages, response: $0) }
        let seqLen = 24
        XCTAssertTrue(full.allSatisfy { $0.tokens.count > seqLen + 1 && $0.tokens.count - $0.promptCount < seqLen }, "prompts long, responses short")

        let rm = try RewardPairs.encode([c], templated: templated, seqLen: seqLen, margins: .none)
        let dpo = try DPOStage.encode([c], templated: templated, seqLen: seqLen)
        let dpoSameCover = try DPOStage.encode([c], templated: templated, seqLen: seqLen - 1)
        XCTAssertEqual(rm.truncated, 2)
        XCTAssertEqual(dpo.truncated, 2)
        let rmSequences = [(rm.pairs[0].chosen, rm.pairs[0].chosenResponseStart), (rm.pairs[0].rejected, rm.pairs[0].rejectedResponseStart)]
        for (side, example) in [dpo.pairs[0].chosen, dpo.pairs[0].rejected].enumerated() {
            let (rmTokens, rmStart) = rmSequences[side]
            let covered = example.tokens + [example.targets.last!]   // the next-token path's kept tokens
            XCTAssertEqual(rmTokens, Array(full[side].tokens.suffix(seqLen)), "side \(side): the reward model keeps the last seqLen tokens")
            XCTAssertEqual(covered, Array(full[side].tokens.suffix(seqLen + 1)), "side \(side): the likelihood keeps the last seqLen + 1")
            XCTAssertEqual(rmStart, full[side].promptCount - (full[side].tokens.count - seqLen))
            // With the same cover (seqLen for the scorer, seqLen - 1 positions predicting seqLen tokens) the two are identical.
            let same = side == 0 ? dpoSameCover.pairs[0].chosen : dpoSameCover.pairs[0].rejected
            XCTAssertEqual(same.tokens + [same.targets.last!], rmTokens, "side \(side)")
            XCTAssertEqual(same.targets.firstIndex { $0 != CrossEntropy.ignoreIndex }.map { $0 + 1 }, rmStart, "side \(side): response start")
            XCTAssertEqual(Array(same.targets[(rmStart - 1)...]), Array(rmTokens[rmStart...]), "side \(side): the response's tokens are the targets")
        }
    }
}
