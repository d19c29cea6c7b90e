// A LoRA adapter in the decoder, unmerged: the base's matrices stay as they are (fp32 or q8) and
// every adapted projection of a block adds the adapter's share to the base's product,
//   u  = x A^T                 (n, r)     A (r, in), x (n, in)
//   u *= s                                s = alpha / r
//   y += u B^T                 (n, out)   B (out, r), y = x W^T already in place
// as LoRAPass's forward computes it in training (no dropout: decoding is inference). One base can so
// serve several adapters (PPO's policy beside the bare base as its reference), each read live from
// its ParameterSet, so a training step's new A and B are decoded without any copy.
//
// Both products run `MatVec.kernel` on the calling thread, for any row count: each output is one dot
// product whose order of additions depends only on its length (MatVec.swift), so a row's adapter
// share does not depend on its batch neighbours, and the adapter adds no batch dependence to the
// base's products. The cost is r (in + out) multiply-adds per row and target: at rank 8 and
// TinyLlama's shape about 0.6% of the base's products.
//
// Rounding differs from training's y += s (u B^T) (sgemm with alpha s) only in where s multiplies,
// which is exact when s is a power of two (rank 8, alpha 16); LoRADecodingTests states the bound.
import PlumbTensor

final class DecodeAdapter {
    let adapter: LoRAAdapter
    let maxRows: Int
    /// u per target, one buffer each so q, k and v (gate and up) keep theirs side by side.
    let projected: [LoRATarget: Tensor]   // (maxRows, r)

    init(_ adapter: LoRAAdapter, config: LlamaConfig, maxRows: Int) throws {
        try adapter.requireFits(config, adapterSource: "the decoder's adapter", baseSource: "the decoder's base")
        self.adapter = adapter
        self.maxRows = maxRows
        projected = Dictionary(uniqueKeysWithValues: adapter.settings.targets.map { ($0, Tensor(zeros: [maxRows, adapter.settings.rank])) })
    }

    /// y_t += s (x A_t^T) B_t^T for each adapted target t of block `layer` among `targets` (they share
    /// the input x (n, in)); nothing when the adapter is switched off, so the base runs bit for bit.
    func add(_ targets: [(target: LoRATarget, out: Tensor)], layer: Int, x: Tensor, rows n: Int) throws {
        guard adapter.enabled else { return }
        let r = adapter.settings.rank, s = adapter.settings.scale
        for (target, y) in targets {
            guard let m = adapter.module(layer: layer, target: target) else { continue }
            let inF = m.a.shape[1], outF = m.b.shape[0]
            guard n <= maxRows, x.count >= n * inF, y.count >= n * outF else {
                throw TensorError("DecodeAdapter \(target.rawValue): \(n) rows of x \(x.shape) and y \(y.shape) do not fit A \(m.a.shape), B \(m.b.shape)")
            }
            let u = projected[target]!
            // u = x A^T: (n, r) = (n, in) (in, r)
            MatVec.kernel(weight: m.a.pointer, inFeatures: inF, x: x.pointer, rows: n, y: u.pointer, ldy: r,
                          outputs: 0..<r, accumulate: false)
            FastMath.scale(u.pointer, n * r, by: s)
            // y += u B^T: (n, out) = (n, r) (r, out)
            MatVec.kernel(weight: m.b.pointer, inFeatures: r, x: u.pointer, rows: n, y: y.pointer, ldy: outF,
                          outputs: 0..<outF, accumulate: true)
        }
    }
}
