import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbTensor
import XCTest

/// log pi(y|x) of responses against an independent reference: one example per forward pass, its
/// logits read back and log-softmaxed in Double at every response position by hand.
final class ResponseLikelihoodTests: XCTestCase {
    let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 40, maxSeqLen: 24)

    /// Prompt + response token lists (the response ends with EOS = 2).
    func examples(_ count: Int, seed: UInt64) -> [TokenizedExample] {
        var rng = SeededRNG(seed: seed)
        return (0..<count).map { _ in
            let prompt = [Int32(1)] + (0..<Int.random(in: 1...8, using: &rng)).map { _ in Int32.random(in: 3..<40, using: &rng) }
            let response = (0..<Int.random(in: 0...6, using: &rng)).map { _ in Int32.random(in: 3..<40, using: &rng) } + [2]
            return TokenizedExample(tokens: prompt + response, promptCount: prompt.count)
        }
    }

    /// sum over response tokens t of log softmax(logits at t - 1)[token t], one example at a time;
    /// `centred` adds each position's entropy -sum_v p_v log p_v.
    func reference(_ model: LlamaModel, _ example: TokenizedExample, centred: Bool = false) throws -> Double {
        let tokens = example.tokens
        let acts = try LlamaActivations(config: config, batchSize: 1, seqLen: tokens.count - 1)
        let layout = try BatchLayout.padded([BatchLayout.Example(tokens: Array(tokens.dropLast()), targets: Array(tokens.dropFirst()))],
                                            batchSize: 1, seqLen: tokens.count - 1, padToken: 2)
        try model.forward(layout, acts)
        let logits = acts.logits!, v = config.vocabSize
        var total = 0.0
        for t in example.promptCount..<tokens.count {
            let row = (0..<v).map { Double(logits.pointer[(t - 1) * v + $0]) }
            let peak = row.max()!
            let logSum = peak + log(row.reduce(0) { $0 + exp($1 - peak) })
            total += row[Int(tokens[t])] - logSum
            if centred { total -= row.reduce(0) { $0 + exp($1 - logSum) * ($1 - logSum) } }
        }
        return total
    }

    func testPackedLogLikelihoodsMatchAReferenceOneAtATime() throws {
        let model = try LlamaModel(config: config, heads: .lm, seed: 4)
        let cases = examples(12, seed: 1)
        let likelihood = try ResponseLikelihood(model: model, seqLen: 24, padToken: 2)
        let packed = try likelihood.logLikelihoods(try cases.map { try ResponseLikelihood.example($0, seqLen: 24) })
        XCTAssertEqual(packed.count, cases.count)
        for (i, c) in cases.enumerated() {
            XCTAssertEqual(packed[i].tokens, c.tokens.count - c.promptCount, "example \(i): response tokens, EOS included")
            let expected = try reference(model, c)
            // float32 logits, up to 7 log-softmax terms of ~|4|: 1e-4 relative is ~100 ulps of slack.
            XCTAssertEqual(packed[i].logProb, expected, accuracy: 1e-4 * max(1, abs(expected)), "example \(i)")
        }
        let centred = try likelihood.logLikelihoods(try cases.map { try ResponseLikelihood.example($0, seqLen: 24) }, centred: true)
        for (i, c) in cases.enumerated() {
            let expected = try reference(model, c, centred: true)
            XCTAssertEqual(centred[i].logProb, expected, accuracy: 1e-4 * max(1, abs(expected)), "centred, example \(i)")
            XCTAssertNotEqual(centred[i].logProb, packed[i].logProb, "centred, example \(i): the entropies count")
        }
    }

    /// A sequence longer than the window loses the prompt's start, never the response.
    func testLongExamplesKeepTheirResponse() throws {
        let prompt = [Int32](repeating: 5, count: 30), response: [Int32] = [7, 8, 2]
        let example = try ResponseLikelihood.example(TokenizedExample(tokens: prompt + response, promptCount: 30), seqLen: 10)
        XCTAssertEqual(example.tokens.count, 10)
        XCTAssertEqual(example.targets.filter { $0 != CrossEntropy.ignoreIndex }, response)
        XCTAssertEqual(example.targets.suffix(3), [7, 8, 2])
    }
}
