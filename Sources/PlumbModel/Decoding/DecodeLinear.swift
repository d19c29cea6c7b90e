// The products of a decoding step: y_j (n, out_j) = x (n, in) W_j^T (+ y_j) for several weights of
// one input (q|k|v, gate|up) in one job of the engine's thread pool (`MatVec.products`): the
// matrix-vector kernel for the few rows of decoding, chunked single-threaded sgemm for prefill and
// large batches, and the 8-bit kernel (`MatVec.Q8`) or the bf16 one (`MatVec.BF16`) for any rows of such a weight.
import PlumbTensor

enum DecodeLinear {
    /// For each (weight W (out, in), out y (n, out)): y = x W^T, or y += x W^T when `accumulate`; x (n, in).
    static func forward(x: Tensor, _ pairs: [(weight: DecodeMatrix, out: Tensor)], accumulate: Bool = false) throws {
        guard let first = pairs.first else { return }
        let inFeatures = first.weight.inFeatures
        let n = try x.rowCount(width: inFeatures, "DecodeLinear x (weight \(first.weight.outFeatures) x \(inFeatures))")
        var products: [MatVec.Product] = []
        for (w, y) in pairs {
            guard w.inFeatures == inFeatures, try y.rowCount(width: w.outFeatures, "DecodeLinear y (weight \(w.outFeatures) x \(w.inFeatures))") == n else {
                throw TensorError("DecodeLinear: weight (\(w.outFeatures), \(w.inFeatures)) and out \(y.shape) do not fit x \(x.shape)")
            }
            switch w {
            case .f32(let t): products.append(MatVec.Product(weight: t.pointer, out: y.pointer, outFeatures: w.outFeatures, accumulate: accumulate))
            case .q8(let q): products.append(MatVec.Product(q8: q, out: y.pointer, accumulate: accumulate))
            case .bf16(let b): products.append(MatVec.Product(bf16: b, out: y.pointer, accumulate: accumulate))
            }
        }
        withExtendedLifetime(pairs) { MatVec.products(x: x.pointer, rows: n, inFeatures: inFeatures, products) }
    }
}
