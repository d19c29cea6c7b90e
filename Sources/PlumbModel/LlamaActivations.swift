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
    let logSumExp: Tensor   // (B, H, T)     log-sum-exp of each query's attention scores
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
    /// A bf16 base's block widened to fp32 (BF16Base.swift); empty until a pass on such a base.
    let baseScratch: BaseLayerScratch
    /// dL/dlogits for the token log-prob backward (N, V); allocated on first use, since the LM loss
    /// writes its gradient over the logits instead.
    lazy var dLogits: Tensor? = logits.map { Tensor(zeros: $0.shape) }
    /// Tokens, positions and segments of the batch last run forward.
    var layout: BatchLayout?
    /// What the last forward pass with a LoRA adapter keeps (its `adapter` nil after a bare pass).
    var lora: LoRAActivations?
    /// Every layer writes one set of buffers (inference: nothing is kept for a backward pass).
    public let forwardOnly: Bool

    public var rows: Int { batchSize * seqLen }

    /// `forwardOnly`: one set of layer buffers that every layer reuses, for passes that read only the
    /// final hidden states and logits (SequenceForward): a block reads its input only until it has
    /// computed `middle`, so its output may overwrite it. About 1 / L of the memory; `backward` refuses.
    public init(config c: LlamaConfig, batchSize b: Int, seqLen t: Int, logits withLogits: Bool = true, forwardOnly: Bool = false) throws {
        guard b > 0, t > 0, t <= c.maxSeqLen else {
            throw ConfigError("activations: need batch > 0 and 0 < seqLen <= max_position_embeddings \(c.maxSeqLen); got \(b) x \(t)")
        }
        batchSize = b; seqLen = t
        self.forwardOnly = forwardOnly
        let n = b * t
        let kept = (0..<(forwardOnly ? 1 : c.nLayers)).map { _ in
            LayerActivations(
                input: Tensor(zeros: [n, c.dim]), norm1: Tensor(zeros: [n, c.dim]), rstd1: Tensor(zeros: [n]),
                q: Tensor(zeros: [b, t, c.nHeads, c.headDim]), k: Tensor(zeros: [b, t, c.nKVHeads, c.headDim]),
                v: Tensor(zeros: [b, t, c.nKVHeads, c.headDim]), logSumExp: Tensor(zeros: [b, c.nHeads, t]),
                attention: Tensor(zeros: [b, t, c.nHeads, c.headDim]), middle: Tensor(zeros: [n, c.dim]),
                norm2: Tensor(zeros: [n, c.dim]), rstd2: Tensor(zeros: [n]), gate: Tensor(zeros: [n, c.hiddenDim]),
                up: Tensor(zeros: [n, c.hiddenDim]), hidden: Tensor(zeros: [n, c.hiddenDim]))
        }
        layers = forwardOnly ? [LayerActivations](repeating: kept[0], count: c.nLayers) : kept
        output = Tensor(zeros: [n, c.dim]); rstdFinal = Tensor(zeros: [n]); finalHidden = Tensor(zeros: [n, c.dim])
        logits = withLogits ? Tensor(zeros: [n, c.vocabSize]) : nil
        dFinalHidden = Tensor(zeros: [n, c.dim])
        scratch = BackwardScratch(config: c, batchSize: b, seqLen: t)
        baseScratch = BaseLayerScratch()
    }

    /// Every buffer of `w` (same B x T), without the logits when `logits` is false: a pass that does not
    /// run the LM head (a critic) sharing a pass's buffers. Only one of them may be in use at a time.
    public init(reusing w: LlamaActivations, logits withLogits: Bool) {
        batchSize = w.batchSize; seqLen = w.seqLen; forwardOnly = w.forwardOnly
        layers = w.layers; output = w.output; rstdFinal = w.rstdFinal; finalHidden = w.finalHidden
        logits = withLogits ? w.logits : nil
        dFinalHidden = w.dFinalHidden; scratch = w.scratch; baseScratch = w.baseScratch
    }

    /// Batch 1 x `t` tokens over the start of `w`'s buffers (t <= w.seqLen, so every buffer fits).
    init(viewing w: LlamaActivations, tokens t: Int, logits withLogits: Bool = true) throws {
        batchSize = 1; seqLen = t; forwardOnly = w.forwardOnly
        layers = try w.layers.map { a in
            let h = a.q.shape[2], kvh = a.k.shape[2], d = a.q.shape[3], c = a.input.shape[1], f = a.gate.shape[1]
            return LayerActivations(
                input: try prefixView(a.input, [t, c]), norm1: try prefixView(a.norm1, [t, c]), rstd1: try prefixView(a.rstd1, [t]),
                q: try prefixView(a.q, [1, t, h, d]), k: try prefixView(a.k, [1, t, kvh, d]), v: try prefixView(a.v, [1, t, kvh, d]),
                logSumExp: try prefixView(a.logSumExp, [1, h, t]), attention: try prefixView(a.attention, [1, t, h, d]),
                middle: try prefixView(a.middle, [t, c]), norm2: try prefixView(a.norm2, [t, c]), rstd2: try prefixView(a.rstd2, [t]),
                gate: try prefixView(a.gate, [t, f]), up: try prefixView(a.up, [t, f]), hidden: try prefixView(a.hidden, [t, f]))
        }
        let c = w.output.shape[1]
        output = try prefixView(w.output, [t, c]); rstdFinal = try prefixView(w.rstdFinal, [t])
        finalHidden = try prefixView(w.finalHidden, [t, c])
        logits = withLogits ? try w.logits.map { try prefixView($0, [t, $0.shape[1]]) } : nil
        dFinalHidden = try prefixView(w.dFinalHidden, [t, c])
        scratch = try BackwardScratch(viewing: w.scratch, tokens: t)
        baseScratch = w.baseScratch
    }
}

extension LlamaActivations {
    /// Activations for one sequence of `length` tokens (batch 1, T = length) laid over the start of
    /// `workspace`'s buffers: no allocation. The workspace must not be used while the view is.
    /// Without `logits` the view leaves the LM head out even when the workspace has logits.
    public convenience init(prefixOf workspace: LlamaActivations, length t: Int, logits: Bool = true) throws {
        guard t > 0, t <= workspace.seqLen else {
            throw ConfigError("activations: a view of \(t) tokens does not fit a workspace of \(workspace.seqLen)")
        }
        try self.init(viewing: workspace, tokens: t, logits: logits)
    }
}

/// A view of the first `shape.count` floats of `x`'s buffer, as `shape`.
func prefixView(_ x: Tensor, _ shape: [Int]) throws -> Tensor {
    try Tensor(storage: x.storage, offset: x.offset, shape: shape)
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

    /// Batch 1 x `t` tokens over the start of `w`'s buffers.
    init(viewing w: BackwardScratch, tokens t: Int) throws {
        let c = w.dNorm.shape[1], f = w.dHidden.shape[1], h = w.dq.shape[2], kvh = w.dk.shape[2], d = w.dq.shape[3]
        dResidual = try prefixView(w.dResidual, [t, c]); dNorm = try prefixView(w.dNorm, [t, c])
        dAttention = try prefixView(w.dAttention, [1, t, h, d]); dqRotated = try prefixView(w.dqRotated, [1, t, h, d])
        dq = try prefixView(w.dq, [1, t, h, d])
        dkRotated = try prefixView(w.dkRotated, [1, t, kvh, d]); dk = try prefixView(w.dk, [1, t, kvh, d])
        dv = try prefixView(w.dv, [1, t, kvh, d])
        dHidden = try prefixView(w.dHidden, [t, f]); dGate = try prefixView(w.dGate, [t, f]); dUp = try prefixView(w.dUp, [t, f])
    }
}
