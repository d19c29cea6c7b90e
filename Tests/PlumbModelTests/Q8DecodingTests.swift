import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

/// Decoding with 8-bit weights (DecodeWeights .q8).
final class Q8DecodingTests: XCTestCase {
    /// The q8 decoder's logits equal an fp32 decoder's on the weights of a Q8_0 GGUF export (the naive
    /// oracle: dequantise ahead, then the fp32 path) bit for bit: d * q is exact in fp32 and the 8-bit
    /// kernel adds in the fp32 kernel's order (8 rows: both on the matrix-vector kernel). The 260k
    /// shape's down_proj (rows of 172) is fp16-rounded, as the export writes it; the embedding rows are
    /// the dequantised ones.
    func testQ8LogitsEqualDequantisedF32() throws {
        let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 16; $0.tieWordEmbeddings = false }
        let model = try spreadModel(config, seed: 41)
        let dequantised = try LlamaModel(config: config, heads: .lm)
        var tensors = try model.tensors()
        for (name, t) in tensors where t.rank == 2 {
            if t.shape[1] % 32 == 0 {
                let q = try Q8Matrix(quantising: t)
                tensors[name] = try Tensor(shape: t.shape, values: (0..<t.shape[0]).flatMap { q.dequantisedRow($0) })
            } else {
                tensors[name] = try Tensor(shape: t.shape, values: t.buffer.map { Float(Float16($0)) })
            }
        }
        try dequantised.load(tensors, source: "dequantised")
        let decode = try DecodeWeights(model.weights, format: .q8)
        XCTAssertEqual(decode.keptInF32, (0..<config.nLayers).map { "layers.\($0).down_proj" })
        let tokens: [Int32] = [1, 40, 300, 7, 9, 511, 2, 100]
        func logits(_ m: LlamaModel, _ format: DecodeWeightFormat) throws -> [Float] {
            let cache = try KVCache(config: config, slots: 1, capacity: 16)
            let step = try IncrementalForward(config: config, weights: m.weights, cache: cache, maxRows: 16, format: format)
            let out = Tensor(zeros: [tokens.count, config.vocabSize])
            try step.forward(tokens: tokens, slots: [Int](repeating: 0, count: tokens.count), positions: (0..<8).map(Int32.init),
                             logitRows: Array(0..<8), logits: out)
            return Array(out.buffer)
        }
        let q8 = try logits(model, .q8), reference = try logits(dequantised, .f32), f32 = try logits(model, .f32)
        XCTAssertEqual(q8, reference)
        XCTAssertGreaterThan(zip(q8, f32).map { abs($0 - $1) }.max()!, 1e-3, "q8 really reads different (quantised) weights")
    }

    /// Under q8, batched sequences get the tokens they get alone (greedy and sampled), as under fp32.
    func testQ8BatchedEqualsAlone() throws {
        let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 48 }
        let model = try spreadModel(config, seed: 42)
        let requests = [GenerationRequest(prompt: [1, 7, 9], samples: 3, seed: 5), GenerationRequest(prompt: [1, 300, 2, 44], samples: 1, seed: 6)]
        for sampling in [Sampling.greedy, .random(temperature: 1, topK: 0, topP: 1)] {
            let options = GenerationOptions(maxNewTokens: 24, sampling: sampling, stopTokens: [2])
            let batched = try Generator(config: config, weights: model.weights, maxSequences: 8, format: .q8).generate(requests, options: options)
            for s in batched {
                var one = requests[s.request]; one.samples = 1
                let alone = try Generator(config: config, weights: model.weights, maxSequences: 1, format: .q8)
                    .generate([one], options: options)
                if s.sample == 0 { XCTAssertEqual(alone[0].tokens, s.tokens, "\(sampling) request \(s.request)") }
            }
        }
    }

    /// reloadWeights makes a q8 generator see weights changed after it was built (PPO updates them):
    /// it then decodes as a generator built on the new weights.
    func testReloadSeesUpdatedWeights() throws {
        let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 16 }
        let model = try spreadModel(config, seed: 43)
        let generator = try Generator(config: config, weights: model.weights, maxSequences: 1, format: .q8)
        let options = GenerationOptions(maxNewTokens: 8)
        let before = try generator.generate([GenerationRequest(prompt: [1, 5])], options: options)[0].tokens
        let other = try spreadModel(config, seed: 44)
        try model.load(try other.tensors(), source: "update")
        try generator.reloadWeights()
        let fresh = try generator.generate([GenerationRequest(prompt: [1, 5])], options: options)[0].tokens
        let expected = try Generator(config: config, weights: other.weights, maxSequences: 1, format: .q8)
            .generate([GenerationRequest(prompt: [1, 5])], options: options)[0].tokens
        XCTAssertEqual(fresh, expected)
        XCTAssertNotEqual(fresh, before, "two random models should not decode the same 8 tokens")
    }
}
