// Views of a Llama model's weights by role, built from a name -> tensor lookup (the parameter arena
// or a loaded checkpoint). Names are Hugging Face's (LlamaTensorNames); shapes are checked on entry.
// A bf16 base (BF16Base.swift) holds its blocks' projections in `bf16Layers`; its `layers` then carry
// the fp32 norms and, for each projection, an empty (0, in) placeholder that any product refuses by
// shape, so nothing reads a projection without widening it (`LlamaModel.layerWeights`).
import PlumbTensor

/// One transformer block's weights; every matrix is (out, in).
public struct LlamaLayerWeights {
    public let attentionNorm: Tensor  // (C)
    public let wq: Tensor             // (H * D, C)
    public let wk: Tensor             // (KVH * D, C)
    public let wv: Tensor             // (KVH * D, C)
    public let wo: Tensor             // (C, H * D)
    public let mlpNorm: Tensor        // (C)
    public let gate: Tensor           // (F, C)   w1
    public let up: Tensor             // (F, C)   w3
    public let down: Tensor           // (C, F)   w2
}

public struct LlamaWeights {
    public let embedding: Tensor      // (V, C)
    public let layers: [LlamaLayerWeights]
    public let finalNorm: Tensor      // (C)
    /// The LM head: `lm_head.weight`, or the embedding when tied; nil without an LM head.
    public let lmHead: Tensor?        // (V, C)
    public let rewardHead: Tensor?    // (1, C)
    public let valueHead: Tensor?     // (1, C)
    /// The blocks' projections in bf16 (a bf16 base), or nil when `layers` hold them in fp32.
    public let bf16Layers: [BF16LayerMatrices]?

    /// Looks every tensor of `config` with `heads` up by name and checks its shape; with `bf16Layers`,
    /// the projections are those (not looked up).
    public init(config: LlamaConfig, heads: LlamaHeads, bf16Layers: [BF16LayerMatrices]? = nil,
                lookup: (String) throws -> Tensor) throws {
        self.bf16Layers = bf16Layers
        func get(_ name: String, _ shape: [Int]) throws -> Tensor {
            if bf16Layers != nil, shape.count == 2, name.hasPrefix("model.layers.") { return Tensor(zeros: [0, shape[1]]) }
            let t = try lookup(name)
            guard t.shape == shape else { throw CheckpointError("tensor '\(name)': expected shape \(shape), found \(t.shape)") }
            return t
        }
        embedding = try get(LlamaTensorNames.embedding, [config.vocabSize, config.dim])
        layers = try (0..<config.nLayers).map { i in
            func leaf(_ l: LlamaTensorNames.LayerTensor) throws -> Tensor { try get(LlamaTensorNames.layer(i, l), l.shape(config)) }
            return LlamaLayerWeights(attentionNorm: try leaf(.attentionNorm), wq: try leaf(.q), wk: try leaf(.k), wv: try leaf(.v),
                                     wo: try leaf(.o), mlpNorm: try leaf(.mlpNorm), gate: try leaf(.gate), up: try leaf(.up), down: try leaf(.down))
        }
        finalNorm = try get(LlamaTensorNames.finalNorm, [config.dim])
        if heads.contains(.lm) {
            lmHead = config.tieWordEmbeddings ? embedding : try get(LlamaTensorNames.lmHead, [config.vocabSize, config.dim])
        } else {
            lmHead = nil
        }
        rewardHead = heads.contains(.reward) ? try get(LlamaTensorNames.rewardHead, [1, config.dim]) : nil
        valueHead = heads.contains(.value) ? try get(LlamaTensorNames.valueHead, [1, config.dim]) : nil
    }
}
