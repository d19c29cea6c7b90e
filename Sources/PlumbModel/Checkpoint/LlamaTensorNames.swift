// Hugging Face Llama tensor names and shapes: a Plumbline checkpoint is a Hugging Face checkpoint.
// Weights are (out, in), as nn.Linear stores them. Heads other than the LM head have their own names:
// `score.weight` as in LlamaForSequenceClassification (reward), `value_head.weight` (PPO critic).

/// Which heads sit on the trunk.
public struct LlamaHeads: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Next-token logits (tied to the embedding or `lm_head.weight`).
    public static let lm = LlamaHeads(rawValue: 1)
    /// A scalar regression head read at one position: `score.weight` (1, C).
    public static let reward = LlamaHeads(rawValue: 2)
    /// A per-token scalar head: `value_head.weight` (1, C).
    public static let value = LlamaHeads(rawValue: 4)
}

public enum LlamaTensorNames {
    public static let embedding = "model.embed_tokens.weight"
    public static let finalNorm = "model.norm.weight"
    public static let lmHead = "lm_head.weight"
    public static let rewardHead = "score.weight"
    public static let valueHead = "value_head.weight"

    public static func layer(_ i: Int, _ leaf: LayerTensor) -> String { "model.layers.\(i).\(leaf.rawValue).weight" }

    /// Every tensor of one block, in llama2.c's storage order.
    public enum LayerTensor: String, CaseIterable, Sendable {
        case attentionNorm = "input_layernorm"
        case q = "self_attn.q_proj"
        case k = "self_attn.k_proj"
        case v = "self_attn.v_proj"
        case o = "self_attn.o_proj"
        case mlpNorm = "post_attention_layernorm"
        case gate = "mlp.gate_proj"   // w1
        case down = "mlp.down_proj"   // w2
        case up = "mlp.up_proj"       // w3

        public func shape(_ c: LlamaConfig) -> [Int] {
            switch self {
            case .attentionNorm, .mlpNorm: return [c.dim]          // (C)
            case .q: return [c.nHeads * c.headDim, c.dim]          // (n_heads * head_dim, C)
            case .k, .v: return [c.kvDim, c.dim]                   // (n_kv_heads * head_dim, C)
            case .o: return [c.dim, c.nHeads * c.headDim]          // (C, n_heads * head_dim)
            case .gate, .up: return [c.hiddenDim, c.dim]           // (H, C)
            case .down: return [c.dim, c.hiddenDim]                // (C, H)
            }
        }
    }

    /// (name, shape) of every tensor of a model with `heads`, in a fixed order.
    public static func table(_ c: LlamaConfig, heads: LlamaHeads) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = [(embedding, [c.vocabSize, c.dim])]
        for i in 0..<c.nLayers {
            for leaf in LayerTensor.allCases { out.append((layer(i, leaf), leaf.shape(c))) }
        }
        out.append((finalNorm, [c.dim]))
        if heads.contains(.lm) && !c.tieWordEmbeddings { out.append((lmHead, [c.vocabSize, c.dim])) }
        if heads.contains(.reward) { out.append((rewardHead, [1, c.dim])) }
        if heads.contains(.value) { out.append((valueHead, [1, c.dim])) }
        return out
    }
}
