// Decoding through a LoRA adapter, unmerged (DecodeAdapter): the cached decoder's logits with the
// adapter equal the training forward's (SequenceForward with the same adapter) and the decoder's over
// the merged weights; an adapter switched off (or none) decodes the base bit for bit; a row's bits do
// not depend on the rows decoded beside it.
import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

final class LoRADecodingTests: XCTestCase {
    /// The 260k shape (GQA, 8 heads over 4 kv heads, dim 64), weights U(-0.5, 0.5): logits of magnitude ~10.
    let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 24 }
    let tokens: [Int32] = (0..<20).map { Int32(($0 * 37 + 5) % 512) }

    /// PEFT's init on every projection, then B drawn N(0, 0.1) (a fresh B is zero and would change
    /// nothing). alpha / r = 3, not a power of two, so the decoder's (s u) B^T and training's s (u B^T)
    /// round differently.
    func adapter(seed: UInt64 = 3) throws -> LoRAAdapter {
        let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 12), seed: seed)
        var rng = SeededRNG(seed: seed + 1)
        for m in adapter.allModules { rng.fillNormal(m.b, std: 0.1) }
        return adapter
    }

    /// Logits (T, V) of every position of `tokens` from the cached decoder (`cachedDecoderLogits`).
    func decodedLogits(_ weights: LlamaWeights, adapter: LoRAAdapter?, format: DecodeWeightFormat = .f32) throws -> Tensor {
        try cachedDecoderLogits(config, weights, tokens: tokens, adapter: adapter, format: format)
    }

    /// Logits (T, V) of the training forward, batch 1 x T, through `adapter`.
    func trainingLogits(_ model: LlamaModel, adapter: LoRAAdapter?) throws -> Tensor {
        let example = try BatchLayout.Example(tokens: tokens, targets: Array(tokens.dropFirst()) + [CrossEntropy.ignoreIndex])
        let forward = try SequenceForward(model: model, maxLength: 24, logits: true, adapter: adapter)
        return try forward.map([example], padToken: 0) { acts, _ in
            let copy = Tensor(zeros: [self.tokens.count, self.config.vocabSize])
            try copy.copy(from: acts.logits!)
            return copy
        }[0]
    }

    /// Tolerance 1e-4 on logits of magnitude ~10 (a few ulps at that scale are ~5e-6, and the products
    /// differ in order of summation and in where alpha / r multiplies: the base decoder's own bound
    /// against the training forward in DecodingTests is the same 1e-4).
    func testAdapterDecodingEqualsMergedAndTrainingForward() throws {
        let base = try spreadModel(config, seed: 11), adapter = try adapter()
        let decoded = try decodedLogits(base.weights, adapter: adapter)
        let training = try trainingLogits(base, adapter: adapter)
        let merged = try adapter.merged(with: base, gradients: false)
        let decodedMerged = try decodedLogits(merged.weights, adapter: nil)
        let bare = try decodedLogits(base.weights, adapter: nil)
        let scale = decoded.array.map(abs).max()!
        let vsTraining = try decoded.maxAbsDifference(training), vsMerged = try decoded.maxAbsDifference(decodedMerged)
        let moved = try decoded.maxAbsDifference(bare)
        print("LoRA decoding: max |logit| \(scale); vs training forward \(vsTraining), vs merged decoding \(vsMerged); adapter moves logits by \(moved)")
        XCTAssertGreaterThan(scale, 3)
        XCTAssertGreaterThan(moved, 0.5, "the adapter must change the logits for the comparison to mean anything")
        XCTAssertLessThan(vsTraining, 1e-4)
        XCTAssertLessThan(vsMerged, 1e-4)
    }

    /// An adapter switched off, a fresh one (B = 0) and none at all decode the base bit for bit, in
    /// fp32 and over 8-bit weights.
    func testSwitchedOffAdapterDecodesTheBaseBitForBit() throws {
        let base = try spreadModel(config, seed: 12)
        for format in DecodeWeightFormat.allCases {
            let bare = bits(try decodedLogits(base.weights, adapter: nil, format: format))
            let off = try adapter()
            off.enabled = false
            XCTAssertEqual(bits(try decodedLogits(base.weights, adapter: off, format: format)), bare, "\(format) switched off")
            let fresh = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 12), seed: 9)
            XCTAssertEqual(bits(try decodedLogits(base.weights, adapter: fresh, format: format)), bare, "\(format) fresh (B = 0)")
            XCTAssertNotEqual(bits(try decodedLogits(base.weights, adapter: try adapter(), format: format)), bare, "\(format) on")
        }
    }

    /// A row's logits through the adapter are bit for bit the same decoded alone or beside other rows,
    /// and sequences generated together equal those generated alone (the adapter adds no batch dependence).
    func testAdapterDecodingIsBatchInvariant() throws {
        let base = try spreadModel(config.with { $0.maxSeqLen = 64 }, seed: 13), adapter = try adapter()
        let wide = config.with { $0.maxSeqLen = 64 }
        let cache = try KVCache(config: wide, slots: 3, capacity: 64)
        let step = try IncrementalForward(config: wide, weights: base.weights, cache: cache, maxRows: 64)
        try step.use(adapter: adapter)
        let v = wide.vocabSize
        // Prefill slot 0 alone, slots 1 and 2 with other prompts, then decode slot 0 alone and in a batch of 3.
        try step.forward(tokens: [1, 7, 9], slots: [0, 0, 0], positions: [0, 1, 2], logitRows: [], logits: Tensor(zeros: [0, v]))
        try step.forward(tokens: [4, 5, 300, 2], slots: [1, 1, 2, 2], positions: [0, 1, 0, 1], logitRows: [], logits: Tensor(zeros: [0, v]))
        let alone = Tensor(zeros: [1, v]), together = Tensor(zeros: [3, v])
        try step.forward(tokens: [11], slots: [0], positions: [3], logitRows: [0], logits: alone)
        try step.forward(tokens: [3, 11, 8], slots: [1, 0, 2], positions: [2, 3, 2], logitRows: [0, 1, 2], logits: together)
        XCTAssertEqual(bits(alone), Array(bits(together)[v..<2 * v]))

        let requests = [GenerationRequest(prompt: [1, 7, 9], samples: 3, seed: 5),
                        GenerationRequest(prompt: [1, 300, 2, 44, 45, 46, 47], samples: 1, seed: 6)]
        let options = GenerationOptions(maxNewTokens: 30, sampling: .random(temperature: 1, topK: 0, topP: 1), stopTokens: [2])
        let batched = try Generator(config: wide, weights: base.weights, maxSequences: 8, adapter: adapter).generate(requests, options: options)
        let bare = try Generator(config: wide, weights: base.weights, maxSequences: 8).generate(requests, options: options)
        XCTAssertNotEqual(batched.map(\.tokens), bare.map(\.tokens), "the adapter changes what is sampled")
        for (r, request) in requests.enumerated() {
            let alone = try Generator(config: wide, weights: base.weights, maxSequences: request.samples, adapter: adapter)
                .generate([request], options: options)
            for s in 0..<request.samples {
                XCTAssertEqual(batched.first { $0.request == r && $0.sample == s }!.tokens, alone[s].tokens, "request \(r) sample \(s)")
            }
        }
    }

    /// An adapter made for another shape is refused naming both shapes.
    func testAdapterForAnotherShapeIsRefused() throws {
        let base = try spreadModel(config, seed: 14)
        let other = try LoRAAdapter(config: config.with { $0.nLayers = 2 }, settings: LoRASettings(rank: 4, alpha: 8), seed: 1)
        XCTAssertThrowsError(try Generator(config: config, weights: base.weights, maxSequences: 1, adapter: other)) {
            XCTAssertTrue("\($0)".contains("layers 2") && "\($0)".contains("layers \(self.config.nLayers)"), "\($0)")
        }
    }
}
