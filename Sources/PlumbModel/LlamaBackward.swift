// The training backward pass: from acts.dFinalHidden (filled by the heads) through the final norm,
// every block in reverse, and the embedding. Gradients ADD into the model's gradient arena (so
// micro-batches and several forward passes accumulate until `parameters.zeroGrad()`); frozen
// parameters get no gradient but their inputs still pass gradient on. When the forward pass ran with
// a LoRA adapter, each adapted projection also adds its adapter's dA, dB and dx (LoRA/LoRAPass.swift).
import PlumbTensor

extension LlamaModel {
    public func backward(_ acts: LlamaActivations) throws {
        guard let batch = acts.layout else { throw TensorError("LlamaModel.backward: run forward on these activations first") }
        guard !acts.forwardOnly else { throw TensorError("LlamaModel.backward: these activations keep one layer's buffers (forward only, SequenceForward's); backward needs activations made with forwardOnly false") }
        let s = acts.scratch
        let lora = acts.lora?.adapter == nil ? nil : acts.lora
        s.dResidual.zero()
        try RMSNorm.backward(dOut: acts.dFinalHidden, x: acts.output, weight: weights.finalNorm, rstd: acts.rstdFinal,
                             dx: s.dResidual, dWeight: try grad(LlamaTensorNames.finalNorm))
        for l in stride(from: config.nLayers - 1, through: 0, by: -1) {
            try layerBackward(l, try layerWeights(l, acts), acts.layers[l], batch: batch, s, lora: lora)
        }
        if let dTable = try grad(LlamaTensorNames.embedding) {
            try Embedding.backward(dOut: s.dResidual, tokens: batch.tokens, dTable: dTable)
        }
    }

    /// s.dResidual holds dL/d(output of layer l); on return it holds dL/d(input of layer l).
    func layerBackward(_ l: Int, _ w: LlamaLayerWeights, _ a: LayerActivations, batch: BatchLayout, _ s: BackwardScratch,
                       lora: LoRAActivations?) throws {
        let c = config, n = batch.tokenCount
        func g(_ leaf: LlamaTensorNames.LayerTensor) throws -> Tensor? { try grad(LlamaTensorNames.layer(l, leaf)) }
        // 2. MLP branch: output = middle + hidden Wd^T, hidden = silu(gate) * up
        s.dHidden.zero()
        try Linear.backward(dOut: s.dResidual, x: a.hidden, weight: w.down, dx: s.dHidden, dWeight: try g(.down))
        try lora?.backward(.down, layer: l, dOut: s.dResidual, x: a.hidden, dx: s.dHidden)
        s.dGate.zero(); s.dUp.zero()
        try Activations.swigluBackward(dOut: s.dHidden, a: a.gate, b: a.up, da: s.dGate, db: s.dUp)
        s.dNorm.zero()
        try Linear.backward(dOut: s.dGate, x: a.norm2, weight: w.gate, dx: s.dNorm, dWeight: try g(.gate))
        try Linear.backward(dOut: s.dUp, x: a.norm2, weight: w.up, dx: s.dNorm, dWeight: try g(.up))
        try lora?.backward(.gate, layer: l, dOut: s.dGate, x: a.norm2, dx: s.dNorm)
        try lora?.backward(.up, layer: l, dOut: s.dUp, x: a.norm2, dx: s.dNorm)
        try RMSNorm.backward(dOut: s.dNorm, x: a.middle, weight: w.mlpNorm, rstd: a.rstd2, dx: s.dResidual, dWeight: try g(.mlpNorm))
        // 1. attention branch: middle = input + attention Wo^T
        let hd = c.nHeads * c.headDim
        s.dAttention.zero()
        try Linear.backward(dOut: s.dResidual, x: try a.attention.reshaped([n, hd]), weight: w.wo,
                            dx: try s.dAttention.reshaped([n, hd]), dWeight: try g(.o))
        try lora?.backward(.o, layer: l, dOut: s.dResidual, x: try a.attention.reshaped([n, hd]), dx: try s.dAttention.reshaped([n, hd]))
        s.dqRotated.zero(); s.dkRotated.zero(); s.dv.zero()
        try Attention.backward(dOut: s.dAttention, q: a.q, k: a.k, v: a.v, out: a.attention, logSumExp: a.logSumExp,
                               segmentIds: batch.segmentIds, dq: s.dqRotated, dk: s.dkRotated, dv: s.dv)
        s.dq.zero(); s.dk.zero()
        try RoPE.backward(dOut: s.dqRotated, positions: batch.positions, table: rope, layout: ropeLayout, dx: s.dq)
        try RoPE.backward(dOut: s.dkRotated, positions: batch.positions, table: rope, layout: ropeLayout, dx: s.dk)
        s.dNorm.zero()
        try Linear.backward(dOut: try s.dq.reshaped([n, hd]), x: a.norm1, weight: w.wq, dx: s.dNorm, dWeight: try g(.q))
        try Linear.backward(dOut: try s.dk.reshaped([n, c.kvDim]), x: a.norm1, weight: w.wk, dx: s.dNorm, dWeight: try g(.k))
        try Linear.backward(dOut: try s.dv.reshaped([n, c.kvDim]), x: a.norm1, weight: w.wv, dx: s.dNorm, dWeight: try g(.v))
        if let lora {
            try lora.backward(.q, layer: l, dOut: try s.dq.reshaped([n, hd]), x: a.norm1, dx: s.dNorm)
            try lora.backward(.k, layer: l, dOut: try s.dk.reshaped([n, c.kvDim]), x: a.norm1, dx: s.dNorm)
            try lora.backward(.v, layer: l, dOut: try s.dv.reshaped([n, c.kvDim]), x: a.norm1, dx: s.dNorm)
        }
        try RMSNorm.backward(dOut: s.dNorm, x: a.input, weight: w.attentionNorm, rstd: a.rstd1, dx: s.dResidual, dWeight: try g(.attentionNorm))
    }
}
