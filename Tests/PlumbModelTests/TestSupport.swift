// Helpers shared by the model tests: deterministic random tensors and temporary directories.
import Foundation
import PlumbTensor
@testable import PlumbModel

/// SplitMix64: a tiny deterministic generator, independent of the engine's RNG.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-scale, scale).
    mutating func uniform(_ scale: Float = 1) -> Float {
        (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        let t = Tensor(zeros: shape)
        for i in 0..<t.count { t.pointer[i] = uniform(scale) }
        return t
    }
}

/// Random tensors for every name of `config` with `heads`.
func randomTensors(_ config: LlamaConfig, heads: LlamaHeads, seed: UInt64) -> [String: Tensor] {
    var rng = TestRandom(seed)
    var out: [String: Tensor] = [:]
    for (name, shape) in LlamaTensorNames.table(config, heads: heads) { out[name] = rng.tensor(shape, scale: 0.5) }
    return out
}

func bits(_ t: Tensor) -> [UInt32] { t.array.map(\.bitPattern) }

func temporaryDirectory(_ tag: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-model-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A random model whose norm weights are 1, so logits spread enough for sampling to vary.
func spreadModel(_ config: LlamaConfig, seed: UInt64) throws -> LlamaModel {
    let model = try LlamaModel(config: config, heads: .lm)
    var tensors = randomTensors(config, heads: .lm, seed: seed)
    for name in tensors.keys where tensors[name]!.rank == 1 { tensors[name] = Tensor(shape: [config.dim], repeating: 1) }
    try model.load(tensors, source: "random")
    return model
}

/// Logits (T, V) of every position of `tokens` from the cached decoder (`IncrementalForward`, one
/// slot, capacity 24), fed as a prefill of the first 7 tokens, then one token per call.
func cachedDecoderLogits(_ config: LlamaConfig, _ weights: LlamaWeights, tokens: [Int32], adapter: LoRAAdapter?,
                         format: DecodeWeightFormat = .f32) throws -> Tensor {
    let cache = try KVCache(config: config, slots: 1, capacity: 24)
    let step = try IncrementalForward(config: config, weights: weights, cache: cache, maxRows: 24, format: format)
    try step.use(adapter: adapter)
    let v = config.vocabSize, out = Tensor(zeros: [tokens.count, v])
    try step.forward(tokens: Array(tokens[0..<7]), slots: [Int](repeating: 0, count: 7), positions: (0..<7).map(Int32.init),
                     logitRows: Array(0..<7), logits: try Tensor(storage: out.storage, offset: 0, shape: [7, v]))
    for t in 7..<tokens.count {
        try step.forward(tokens: [tokens[t]], slots: [0], positions: [Int32(t)], logitRows: [0],
                         logits: try Tensor(storage: out.storage, offset: t * v, shape: [1, v]))
    }
    return out
}
