// Everything one training forward pass keeps for its backward pass, plus the backward scratch,
// allocated once per batch shape (llm.c `ActivationTensors`). Several may exist at once (DPO chosen
// and rejected, PPO policy and value): each forward fills its own, each backward adds into the
// model's one gradient arena. N = B * T rows; C model width, F MLP width, V vocabulary.
import PlumbTensor

/// What one layer's forward keeps.
struct LayerActivations {
    let input: Tensor       // (N, C)        residual stream entering the layer
    let norm1: Tensor       // (N, C)        RMSNorm(input)
    let rstd1: Tensor       // (N)
    let q: Tensor           // (B, T, H, D)  rotated queries
    let k: Tensor           // (B, T, KVH, D) rotated keys
    let v: Tensor           // (B, T, KVH, D)
    let probs: Tensor       // (B, H, T, T)  attention probabilities
    let attention: Tensor   // (B, T, H, D)  attention output, before o_proj
    let middle: Tensor      // (N, C)        input + attention @ Wo^T
    let norm2: Tensor       // (N, C)
    let rstd2: Tensor       // (N)
    let gate: Tensor        // (N, F)        norm2 @ Wgate^T (pre-activation)
    let up: Tensor          // (N, F)        norm2 @ Wup^T
    let hidden: Tensor      // (N, F)        silu(gate) * up
}

public final class LlamaActivations {
    public let batchSize: Int   // B
    public let seqLen: Int      // T
    let layers: [LayerActivations]
    /// Residual stream after the last layer.
    let output: Tensor          // (N, C)
    let rstdFinal: Tensor       // (N)
    /// Final hidden states, RMSNorm(output): what every head reads.
    public let finalHidden: Tensor   // (N, C)
    /// Next-token logits; nil when built without the LM head.
    public let logits: Tensor?       // (N, V)
    /// dL/dfinalHidden: heads add into it, `backward` consumes it. Zeroed by `forward`.
    public let dFinalHidden: Tensor  // (N, C)
    let scratch: BackwardScratch
    /// dL/dlogits for the token log-prob backward (N, V); allocated on first use, since the LM loss
    /// writes its gradient over the logits instead.
    lazy var dLogits: Tensor? = logits.map { Tensor(zeros: $0.shape) }
    /// Tokens, positions and segments of the batch last run forward.
    var layout: BatchLayout?

    public var rows: Int { batchSize * seqLen }

    public init(config c: LlamaConfig, batchSize b: Int, seqLen t: Int, logits withLogits: Bool = true) throws {
        guard b > 0, t > 0, t <= c.maxSeqLen else {
            throw ConfigError("activations: need batch > 0 and 0 < seqLen <= max_position_embeddings \(c.maxSeqLen); got \(b) x \(t)")
        }
        batchSize = b; seqLen = t
        let n = b * t
        layers = (0..<c.nLayers).map { _ in
            LayerActivations(
                input: Tensor(zeros: [n, c.dim]), norm1: Tensor(zeros: [n, c.dim]), rstd1: Tensor(zeros: [n]),
                q: Tensor(zeros: [b, t, c.nHeads, c.headDim]), k: Tensor(zeros: [b, t, c.nKVHeads, c.headDim]),
                v: Tensor(zeros: [b, t, c.nKVHeads, c.headDim]), probs: Tensor(zeros: [b, c.nHeads, t, t]),
                attention: Tensor(zeros: [b, t, c.nHeads, c.headDim]), middle: Tensor(zeros: [n, c.dim]),
                norm2: Tensor(zeros: [n, c.dim]), rstd2: Tensor(zeros: [n]), gate: Tensor(zeros: [n, c.hiddenDim]),
                up: Tensor(zeros: [n, c.hiddenDim]), hidden: Tensor(zeros: [n, c.hiddenDim]))
        }
        output = Tensor(zeros: [n, c.dim]); rstdFinal = Tensor(zeros: [n]); finalHidden = Tensor(zeros: [n, c.dim])
        logits = withLogits ? Tensor(zeros: [n, c.vocabSize]) : nil
        dFinalHidden = Tensor(zeros: [n, c.dim])
        scratch = BackwardScratch(config: c, batchSize: b, seqLen: t)
    }
}

/// Gradient buffers reused by every layer of one backward pass.
struct BackwardScratch {
    let dResidual: Tensor   // (N, C)   dL/d(residual stream) at the current depth
    let dNorm: Tensor       // (N, C)
    let dAttention: Tensor  // (B, T, H, D)
    let dqRotated: Tensor   // (B, T, H, D)
    let dkRotated: Tensor   // (B, T, KVH, D)
    let dq: Tensor          // (B, T, H, D)
    let dk: Tensor          // (B, T, KVH, D)
    let dv: Tensor          // (B, T, KVH, D)
    let dHidden: Tensor     // (N, F)
    let dGate: Tensor       // (N, F)
    let dUp: Tensor         // (N, F)

    init(config c: LlamaConfig, batchSize b: Int, seqLen t: Int) {
        let n = b * t
        dResidual = Tensor(zeros: [n, c.dim]); dNorm = Tensor(zeros: [n, c.dim])
        dAttention = Tensor(zeros: [b, t, c.nHeads, c.headDim]); dqRotated = Tensor(zeros: [b, t, c.nHeads, c.headDim])
        dq = Tensor(zeros: [b, t, c.nHeads, c.headDim])
        dkRotated = Tensor(zeros: [b, t, c.nKVHeads, c.headDim]); dk = Tensor(zeros: [b, t, c.nKVHeads, c.headDim])
        dv = Tensor(zeros: [b, t, c.nKVHeads, c.headDim])
        dHidden = Tensor(zeros: [n, c.hiddenDim]); dGate = Tensor(zeros: [n, c.hiddenDim]); dUp = Tensor(zeros: [n, c.hiddenDim])
    }
}
