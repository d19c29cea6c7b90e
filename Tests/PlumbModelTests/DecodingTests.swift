import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

final class DecodingTests: XCTestCase {
    /// The 260k shape (GQA, 8 heads over 4 kv heads) with weights of scale 0.5 so logits are well spread.
    /// Logits from the KV cache, fed one token at a time and as a two-part prefill, equal the training
    /// forward's logits at every position (|diff| <= 1e-4 on logits of magnitude ~10).
    func testCachedLogitsEqualFullForward() throws {
        for layout in RotaryLayout.allCases {
            let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 24; $0.rotaryLayout = layout }
            let model = try spreadModel(config, seed: 11)
            let tokens: [Int32] = (0..<20).map { Int32(($0 * 37 + 5) % 512) }
            let batch = try BatchLayout.padded([lmExample(tokens)], batchSize: 1, seqLen: 24, padToken: 0)
            let acts = try LlamaActivations(config: config, batchSize: 1, seqLen: 24)
            try model.forward(batch, acts)
            let cache = try KVCache(config: config, slots: 2, capacity: 24)
            let step = try IncrementalForward(config: config, weights: model.weights, cache: cache, maxRows: 24)
            let one = Tensor(zeros: [1, config.vocabSize])
            let prefill = Tensor(zeros: [12, config.vocabSize])
            try step.forward(tokens: Array(tokens[0..<8]), slots: [Int](repeating: 1, count: 8), positions: (0..<8).map(Int32.init),
                             logitRows: Array(0..<8), logits: try Tensor(storage: prefill.storage, offset: 0, shape: [8, config.vocabSize]))
            var worst: Float = 0
            for t in 0..<20 {
                try step.forward(tokens: [tokens[t]], slots: [0], positions: [Int32(t)], logitRows: [0], logits: one)
                for v in 0..<config.vocabSize {
                    let full = acts.logits!.pointer[t * config.vocabSize + v]
                    worst = max(worst, abs(one.pointer[v] - full))
                    if t < 8 { worst = max(worst, abs(prefill.pointer[t * config.vocabSize + v] - full)) }
                }
            }
            // Second part of the slot-1 prefill, after the first part is in the cache.
            try step.forward(tokens: Array(tokens[8..<20]), slots: [Int](repeating: 1, count: 12), positions: (8..<20).map(Int32.init),
                             logitRows: Array(0..<12), logits: prefill)
            for t in 8..<20 {
                for v in 0..<config.vocabSize {
                    worst = max(worst, abs(prefill.pointer[(t - 8) * config.vocabSize + v] - acts.logits!.pointer[t * config.vocabSize + v]))
                }
            }
            XCTAssertLessThan(worst, 1e-4, "\(layout)")
        }
    }

    func requests() -> [GenerationRequest] {
        [GenerationRequest(prompt: [1, 7, 9], samples: 3, seed: 5),
         GenerationRequest(prompt: [1, 300, 2, 44, 45, 46, 47], samples: 1, seed: 6),
         GenerationRequest(prompt: [1], samples: 2, seed: 7)]
    }

    /// Decoding many sequences of different lengths together gives each the tokens it gets alone.
    func testBatchedEqualsOneByOne() throws {
        let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 64 }
        let model = try spreadModel(config, seed: 12)
        for sampling in [Sampling.greedy, .random(temperature: 1, topK: 0, topP: 1), .random(temperature: 0.8, topK: 20, topP: 0.9)] {
            let options = GenerationOptions(maxNewTokens: 30, sampling: sampling, stopTokens: [2])
            let batched = try Generator(config: config, weights: model.weights, maxSequences: 8).generate(requests(), options: options)
            XCTAssertEqual(batched.count, 6)
            for (r, request) in requests().enumerated() {
                for s in 0..<request.samples {
                    // alone: a one-sample request reproduces sample s only when s == 0, so run all k alone
                    let alone = try Generator(config: config, weights: model.weights, maxSequences: request.samples)
                        .generate([request], options: options)
                    let b = batched.first { $0.request == r && $0.sample == s }!
                    XCTAssertEqual(b.tokens, alone[s].tokens, "\(sampling) request \(r) sample \(s)")
                    XCTAssertEqual(b.finish, alone[s].finish)
                }
            }
            if case .random = sampling {   // samples of one prompt differ (own RNG streams)
                XCTAssertNotEqual(batched[0].tokens, batched[1].tokens)
            }
        }
    }

    func testStopTokensAndLimits() throws {
        let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 12 }
        let model = try spreadModel(config, seed: 13)
        let generator = try Generator(config: config, weights: model.weights, maxSequences: 2)
        let free = try generator.generate([GenerationRequest(prompt: [1, 2, 3])], options: GenerationOptions(maxNewTokens: 5))
        XCTAssertEqual(free[0].tokens.count, 5)
        XCTAssertEqual(free[0].finish, .maxNewTokens)
        let stopAt = free[0].tokens[2]
        let stopped = try generator.generate([GenerationRequest(prompt: [1, 2, 3])], options: GenerationOptions(maxNewTokens: 5, stopTokens: [stopAt]))
        let first = free[0].tokens.firstIndex(of: stopAt)!
        XCTAssertEqual(stopped[0].tokens, Array(free[0].tokens[0...first]))
        XCTAssertEqual(stopped[0].finish, .stopToken)
        let long = try generator.generate([GenerationRequest(prompt: [1, 2, 3])], options: GenerationOptions(maxNewTokens: 50))
        XCTAssertEqual(long[0].tokens.count, 12 - 3, "prompt + new tokens fill the context exactly")
        XCTAssertEqual(long[0].finish, .contextFull)
        XCTAssertThrowsError(try generator.generate([GenerationRequest(prompt: [1, 600])], options: GenerationOptions(maxNewTokens: 2))) {
            XCTAssertTrue("\($0)".contains("token 600 is outside the vocabulary"), "\($0)")
        }
    }

    /// Top-k 1 is greedy whatever the temperature; sampled frequencies follow softmax(logits / T).
    func testSamplerDistribution() throws {
        var sampler = TokenSampler(vocabSize: 4)
        let logits: [Float] = [0, 1, 2, -1]
        var rng = SeededRNG(seed: 3)
        var counts = [0, 0, 0, 0]
        let draws = 20000
        logits.withUnsafeBufferPointer { p in
            for _ in 0..<draws { counts[Int(sampler.sample(p.baseAddress!, vocab: 4, .random(temperature: 1, topK: 0, topP: 1), rng: &rng))] += 1 }
            XCTAssertEqual(sampler.sample(p.baseAddress!, vocab: 4, .random(temperature: 5, topK: 1, topP: 1), rng: &rng), 2)
            XCTAssertEqual(sampler.sample(p.baseAddress!, vocab: 4, .greedy, rng: &rng), 2)
            // top-p 0.6: the nucleus is {2} (p = 0.64), so always 2
            for _ in 0..<100 { XCTAssertEqual(sampler.sample(p.baseAddress!, vocab: 4, .random(temperature: 1, topK: 0, topP: 0.6), rng: &rng), 2) }
        }
        let z = logits.map { exp(Double($0)) }.reduce(0, +)
        for i in 0..<4 {
            let expected = exp(Double(logits[i])) / z
            XCTAssertEqual(Double(counts[i]) / Double(draws), expected, accuracy: 0.015, "token \(i)")
        }
    }
}
