// The model benchmarks behind `plumb bench train|decode|sample`: each returns what it measured, the
// command prints it. Weights are random (seeded); throughput does not depend on their values.
//
// Training FLOPs per step count every matrix product (PaLM, Chowdhery et al. 2022, appendix B):
//   6 * N * tokens            N = parameters that take part in a product per token: every block
//                             matrix and the LM head (the tied embedding counted once, as the head)
// + 12 * L * T * C * tokens   attention scores and weighted sums, forward and backward, over the
//                             full T x T square (PaLM's convention, not halved for the causal mask).
// The attention kernels skip fully masked key blocks (64-row causal tiles, AttentionHeads.swift):
// at T 256 they multiply 10/16 of the square, so they do 0.625 of this attention term. The figure
// keeps PaLM's count so that it compares with other tools; at the 15m shape the attention term is
// 5.5% of the total, and counting it as computed would lower the FLOPs (and the fraction) by 2.1%.
import Foundation
import PlumbTensor

public struct TrainBenchmark: Sendable {
    public let tokensPerStep: Int
    public let stepSeconds: Double        // mean over the timed steps
    public let flopsPerStep: Double
    public let finalLoss: Float
    public var tokensPerSecond: Double { Double(tokensPerStep) / stepSeconds }
    public var achievedGflops: Double { flopsPerStep / stepSeconds / 1e9 }
}

public struct DecodeBenchmark: Sendable {
    public let sequences: Int
    public let newTokens: Int             // over all sequences
    public let seconds: Double
    public let firstTokens: [Int32]       // of sequence 0, for comparing with another tool
    public var tokensPerSecond: Double { Double(newTokens) / seconds }
}

public enum ModelBenchmarks {
    /// 6 N tokens + 12 L T C tokens (see the file comment).
    public static func trainingFlops(_ c: LlamaConfig, batchSize: Int, seqLen: Int) -> Double {
        let perLayer = c.dim * (c.nHeads * c.headDim) * 2 + c.dim * c.kvDim * 2 + 3 * c.dim * c.hiddenDim
        let matmulParams = Double(c.nLayers * perLayer + c.vocabSize * c.dim)
        let tokens = Double(batchSize * seqLen)
        return 6 * matmulParams * tokens + 12 * Double(c.nLayers * seqLen * c.dim) * tokens
    }

    /// Full training steps (forward, LM loss, backward, clip 1.0, AdamW) on random tokens, one example per row.
    /// With `profile`, the timed steps add each kernel's time to it (StepProfile).
    public static func train(config: LlamaConfig, batchSize: Int, seqLen: Int, steps: Int, seed: UInt64,
                             profile: StepProfile? = nil) throws -> TrainBenchmark {
        let model = try LlamaModel(config: config, heads: .lm, seed: seed)
        var rng = SeededRNG(seed: seed &+ 1)
        let examples = try (0..<batchSize).map { _ in
            try BatchLayout.Example(tokens: (0..<seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) },
                                    targets: (0..<seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) })
        }
        let batch = try BatchLayout.padded(examples, batchSize: batchSize, seqLen: seqLen, padToken: 0)
        let acts = try LlamaActivations(config: config, batchSize: batchSize, seqLen: seqLen)
        let optimizer = AdamW(parameters: model.parameters)
        var loss: Float = 0
        func step() throws {
            model.parameters.zeroGrad()
            try model.forward(batch, acts)
            loss = try model.languageModelLoss(acts).loss
            try model.backward(acts)
            try optimizer.update(model.parameters, learningRate: 3e-4, clippingTo: 1)
        }
        try step()   // warm-up: page in the arenas, start the BLAS threads
        StepProfile.current = profile
        defer { StepProfile.current = nil }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return TrainBenchmark(tokensPerStep: batchSize * seqLen, stepSeconds: seconds / Double(steps),
                              flopsPerStep: trainingFlops(config, batchSize: batchSize, seqLen: seqLen), finalLoss: loss)
    }

    /// Times `generator.generate(requests)` (prefill included) after one untimed warm-up call (which
    /// also makes the 8-bit weights under q8); with `adapter`, decoding through it unmerged.
    public static func decode(weights: LlamaWeights, config: LlamaConfig, requests: [GenerationRequest],
                              options: GenerationOptions, capacity: Int, format: DecodeWeightFormat = .f32,
                              adapter: LoRAAdapter? = nil) throws -> DecodeBenchmark {
        let sequences = requests.reduce(0) { $0 + $1.samples }
        let generator = try Generator(config: config, weights: weights, maxSequences: sequences, capacity: capacity, format: format,
                                      adapter: adapter)
        var warm = options
        warm.maxNewTokens = min(4, options.maxNewTokens)
        _ = try generator.generate(requests, options: warm)
        let start = DispatchTime.now().uptimeNanoseconds
        let out = try generator.generate(requests, options: options)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return DecodeBenchmark(sequences: sequences, newTokens: out.reduce(0) { $0 + $1.tokens.count }, seconds: seconds,
                               firstTokens: out[0].tokens)
    }
}
