// The training forward pass over a packed or padded batch (BatchLayout): pre-norm Llama blocks
// (METHODS.md section 1), attention masked causally within each packed example (segment ids),
// positions restarting at 0 per example.
//   h = x + Attn(RMSNorm(x)) Wo^T,   x' = h + (silu(RMSNorm(h) Wg^T) * (RMSNorm(h) Wu^T)) Wd^T
// then RMSNorm -> final hidden states, and logits = hidden @ W_lm^T when the activations hold logits.
// With a LoRA adapter, each adapted projection adds (alpha / r) B A x to its W x (LoRA/LoRAPass.swift).
import PlumbTensor

extension LlamaModel {
    /// Runs the trunk (and the LM head when `acts` has logits) on `batch`; zeroes `acts.dFinalHidden`.
    /// With an enabled `adapter`, its projections add to the base's, and `backward(acts)` adds into
    /// the adapter's gradients; without one (or disabled) this is the bare base, bit for bit.
    public func forward(_ batch: BatchLayout, _ acts: LlamaActivations, adapter: LoRAAdapter? = nil) throws {
        guard batch.batchSize == acts.batchSize, batch.seqLen == acts.seqLen else {
            throw TensorError("LlamaModel.forward: batch \(batch.batchSize) x \(batch.seqLen) does not fit activations \(acts.batchSize) x \(acts.seqLen)")
        }
        let c = config
        acts.layout = batch
        let lora = try acts.prepareLoRA(adapter, config: c)
        try Embedding.forward(table: weights.embedding, tokens: batch.tokens, out: acts.layers[0].input)
        for l in 0..<c.nLayers {
            let w = try layerWeights(l, acts)   // a bf16 base's block widened into the activations' scratch
            let a = acts.layers[l]
            let next = l + 1 < c.nLayers ? acts.layers[l + 1].input : acts.output
            try layerForward(l, w, a, batch: batch, output: next, lora: lora)
        }
        try RMSNorm.forward(x: acts.output, weight: weights.finalNorm, eps: c.rmsNormEps, out: acts.finalHidden, rstd: acts.rstdFinal)
        if let logits = acts.logits {
            guard let lmHead = weights.lmHead else { throw TensorError("LlamaModel.forward: activations want logits but the model has no LM head") }
            try Linear.forward(x: acts.finalHidden, weight: lmHead, out: logits)   // (N, V)
        }
        acts.dFinalHidden.zero()
    }

    /// One block: a.input (N, C) -> output (N, C), keeping what backward needs in `a`.
    func layerForward(_ l: Int, _ w: LlamaLayerWeights, _ a: LayerActivations, batch: BatchLayout, output: Tensor,
                      lora: LoRAActivations?) throws {
        let c = config, n = batch.tokenCount, hd = c.nHeads * c.headDim
        // 1. attention branch
        try RMSNorm.forward(x: a.input, weight: w.attentionNorm, eps: c.rmsNormEps, out: a.norm1, rstd: a.rstd1)
        try Linear.forward(x: a.norm1, weight: w.wq, out: try a.q.reshaped([n, hd]))
        try Linear.forward(x: a.norm1, weight: w.wk, out: try a.k.reshaped([n, c.kvDim]))
        try Linear.forward(x: a.norm1, weight: w.wv, out: try a.v.reshaped([n, c.kvDim]))
        if let lora {
            try lora.forward(.q, layer: l, x: a.norm1, y: try a.q.reshaped([n, hd]))
            try lora.forward(.k, layer: l, x: a.norm1, y: try a.k.reshaped([n, c.kvDim]))
            try lora.forward(.v, layer: l, x: a.norm1, y: try a.v.reshaped([n, c.kvDim]))
        }
        try RoPE.forward(x: a.q, positions: batch.positions, table: rope, layout: ropeLayout, out: a.q)
        try RoPE.forward(x: a.k, positions: batch.positions, table: rope, layout: ropeLayout, out: a.k)
        try Attention.forward(q: a.q, k: a.k, v: a.v, segmentIds: batch.segmentIds, out: a.attention, logSumExp: a.logSumExp)
        try a.middle.copy(from: a.input)
        try Matmul.gemm(try a.attention.reshaped([n, hd]), w.wo, transposeB: true, into: a.middle, beta: 1)
        try lora?.forward(.o, layer: l, x: try a.attention.reshaped([n, hd]), y: a.middle)
        // 2. MLP branch
        try RMSNorm.forward(x: a.middle, weight: w.mlpNorm, eps: c.rmsNormEps, out: a.norm2, rstd: a.rstd2)
        try Linear.forward(x: a.norm2, weight: w.gate, out: a.gate)
        try Linear.forward(x: a.norm2, weight: w.up, out: a.up)
        try lora?.forward(.gate, layer: l, x: a.norm2, y: a.gate)
        try lora?.forward(.up, layer: l, x: a.norm2, y: a.up)
        try Activations.swigluForward(a: a.gate, b: a.up, into: a.hidden)
        try output.copy(from: a.middle)
        try Matmul.gemm(a.hidden, w.down, transposeB: true, into: output, beta: 1)
        try lora?.forward(.down, layer: l, x: a.hidden, y: output)
    }
}
