// A config.json that lists several eos_token_id values: the policy sampler stops at any of them, as
// well as at the tokenizer's EOS that the chat template ends a turn with.
import XCTest
import PlumbData
import PlumbModel
import PlumbTensor
@testable import PlumbStages

final class StopTokenTests: XCTestCase {
    func testEveryConfiguredEOSIdEndsAResponse() throws {
        let f = try StageFixtures.fixture()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
        func model(eos: [Int]) throws -> LlamaModel {
            let config = LlamaConfig(dim: 32, hiddenDim: 88, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: templated.tokenizer.vocabSize,
                                     maxSeqLen: 64, eosTokenIds: eos)
            let m = try LlamaModel(config: config, heads: .lm, seed: 11)
            for e in m.parameters.entries where e.shape.count == 2 {
                var rng = SeededRNG(seed: 100 + UInt64(e.offset))
                rng.fillNormal(try m.parameters.value(of: e), std: 0.3)
            }
            return m
        }
        let eos = Int(templated.info.eosID)
        let prompt: [[Message]] = [[.user("What is 3 plus 4?")]]
        let settings = SamplingSettings(temperature: 0, maxNewTokens: 20)
        let free = try PolicySampler(model: try model(eos: [eos]), templated: templated).respond(to: prompt, settings: settings, seed: 1)[0][0]
        XCTAssertGreaterThanOrEqual(free.tokens.count, 4, "the greedy response must be long enough to cut")
        let third = free.tokens[2]
        XCTAssertNotEqual(Int(third), eos)
        XCTAssertEqual(PolicySampler.stopTokens(templated, try model(eos: [eos, Int(third)]).config), [templated.info.eosID, third])

        let cut = try PolicySampler(model: try model(eos: [eos, Int(third)]), templated: templated).respond(to: prompt, settings: settings, seed: 1)[0][0]
        let firstStop = free.tokens.firstIndex(of: third)!
        XCTAssertEqual(cut.tokens, Array(free.tokens[...firstStop]), "the response ends at the first listed EOS id")
        XCTAssertTrue(cut.finished)
        XCTAssertEqual(cut.text, try templated.tokenizer.decode(Array(free.tokens[..<firstStop])), "the stop token is not in the text")
    }
}
