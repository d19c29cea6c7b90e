// The two decoding paths agree: the streaming decoder (plumb chat) and the batched policy sampler
// (evaluation, rejection sampling) give the same greedy response to the same prompt.
import XCTest
import PlumbData
import PlumbModel
import PlumbTensor
@testable import PlumbStages

final class SamplingTests: XCTestCase {
    func testStreamingAndBatchedGreedyAgree() throws {
        let f = try StageFixtures.fixture()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
        let config = LlamaConfig(dim: 32, hiddenDim: 88, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: templated.tokenizer.vocabSize, maxSeqLen: 64)
        // A spread initialisation gives varied greedy tokens rather than one repeated token.
        let model = try LlamaModel(config: config, heads: .lm, seed: 11)
        for e in model.parameters.entries where e.shape.count == 2 {
            var rng = SeededRNG(seed: 100 + UInt64(e.offset))
            rng.fillNormal(try model.parameters.value(of: e), std: 0.3)
        }
        let prompts: [[Message]] = [[.user("What is 3 plus 4?")], [.user("Which river runs by Upton?")], [.user("Hi")]]
        let settings = SamplingSettings(temperature: 0, maxNewTokens: 20)
        let batched = try PolicySampler(model: model, templated: templated, maxSequences: 8).respond(to: prompts, settings: settings, seed: 1)
        let streaming = try StreamingDecoder(model: model)
        var distinct = Set<[Int32]>()
        for (i, prompt) in prompts.enumerated() {
            var rng = SeededRNG(seed: 1)
            var streamed: [Int32] = []
            let tokens = try streaming.decode(prompt: try templated.encodePrompt(prompt), settings: settings, stops: [templated.info.eosID], rng: &rng) {
                streamed.append($0)
            }
            XCTAssertEqual(tokens, streamed, "every token is handed to the caller as it is made")
            XCTAssertEqual(tokens, batched[i][0].tokens, "prompt \(i): streaming and batched greedy decoding differ")
            XCTAssertFalse(tokens.isEmpty)
            distinct.insert(tokens)
        }
        XCTAssertGreaterThan(distinct.count, 1, "different prompts should give different responses")
    }
}
