// The training forward pass over a packed or padded batch (BatchLayout): pre-norm Llama blocks
// (METHODS.md section 1), attention masked causally within each packed example (segment ids),
// positions restarting at 0 per example.
//   h = x + Attn(RMSNorm(x)) Wo^T,   x' = h + (silu(RMSNorm(h) Wg^T) * (RMSNorm(h) Wu^T)) Wd^T
// then RMSNorm -> final hidden states, and logits = hidden @ W_lm^T when the activations hold logits.
import PlumbTensor

extension LlamaModel {
    /// Runs the trunk (and the LM head when `acts` has logits) on `batch`; zeroes `acts.dFinalHidden`.
    public func forward(_ batch: BatchLayout, _ acts: LlamaActivations) throws {
        guard batch.batchSize == acts.batchSize, batch.seqLen == acts.seqLen else {
            throw TensorError("LlamaModel.forward: batch \(batch.batchSize) x \(batch.seqLen) does not fit activations \(acts.batchSize) x \(acts.seqLen)")
        }
        let c = config
        acts.layout = batch
        try Embedding.forward(table: weights.embedding, tokens: batch.tokens, out: acts.layers[0].input)
        for (l, w) in weights.layers.enumerated() {
            let a = acts.layers[l]
            let next = l + 1 < c.nLayers ? acts.layers[l + 1].input : acts.output
            try layerForward(w, a, batch: batch, output: next)
        }
        try RMSNorm.forward(x: acts.output, weight: weights.finalNorm, eps: c.rmsNormEps, out: acts.finalHidden, rstd: acts.rstdFinal)
        if let logits = acts.logits {
            guard let lmHead = weights.lmHead else { throw TensorError("LlamaModel.forward: activations want logits but the model has no LM head") }
            try Linear.forward(x: acts.finalHidden, weight: lmHead, out: logits)   // (N, V)
        }
        acts.dFinalHidden.zero()
    }

    /// One block: a.input (N, C) -> output (N, C), keeping what backward needs in `a`.
    func layerForward(_ w: LlamaLayerWeights, _ a: LayerActivations, batch: BatchLayout, output: Tensor) throws {
        let c = config, n = batch.tokenCount
        // 1. attention branch
        try RMSNorm.forward(x: a.input, weight: w.attentionNorm, eps: c.rmsNormEps, out: a.norm1, rstd: a.rstd1)
        try Linear.forward(x: a.norm1, weight: w.wq, out: try a.q.reshaped([n, c.nHeads * c.headDim]))
        try Linear.forward(x: a.norm1, weight: w.wk, out: try a.k.reshaped([n, c.kvDim]))
        try Linear.forward(x: a.norm1, weight: w.wv, out: try a.v.reshaped([n, c.kvDim]))
        try RoPE.forward(x: a.q, positions: batch.positions, table: rope, layout: ropeLayout, out: a.q)
        try RoPE.forward(x: a.k, positions: batch.positions, table: rope, layout: ropeLayout, out: a.k)
        try Attention.forward(q: a.q, k: a.k, v: a.v, segmentIds: batch.segmentIds, out: a.attention, probs: a.probs)
        try a.middle.copy(from: a.input)
        try Matmul.gemm(try a.attention.reshaped([n, c.nHeads * c.headDim]), w.wo, transposeB: true, into: a.middle, beta: 1)
        // 2. MLP branch
        try RMSNorm.forward(x: a.middle, weight: w.mlpNorm, eps: c.rmsNormEps, out: a.norm2, rstd: a.rstd2)
        try Linear.forward(x: a.norm2, weight: w.gate, out: a.gate)
        try Linear.forward(x: a.norm2, weight: w.up, out: a.up)
        try Activations.swigluForward(a: a.gate, b: a.up, into: a.hidden)
        try output.copy(from: a.middle)
        try Matmul.gemm(a.hidden, w.down, transposeB: true, into: output, beta: 1)
    }
}
