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
