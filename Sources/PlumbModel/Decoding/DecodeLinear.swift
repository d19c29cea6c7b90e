// The products of a decoding step: y_j (n, out_j) = x (n, in) W_j^T (+ y_j) for several weights of
// one input (q|k|v, gate|up) in one job of the engine's thread pool (`MatVec.products`): the
// matrix-vector kernel for the few rows of decoding, chunked single-threaded sgemm for prefill and
// large batches.
import PlumbTensor

enum DecodeLinear {
    /// For each (weight W (out, in), out y (n, out)): y = x W^T, or y += x W^T when `accumulate`; x (n, in).
    static func forward(x: Tensor, _ pairs: [(weight: Tensor, out: Tensor)], accumulate: Bool = false) throws {
        guard let first = pairs.first else { return }
        let inFeatures = first.weight.shape[1]
        let n = try x.rowCount(width: inFeatures, "DecodeLinear x (weight \(first.weight.shape))")
        var products: [MatVec.Product] = []
        for (w, y) in pairs {
            guard w.rank == 2, w.shape[1] == inFeatures, try y.rowCount(width: w.shape[0], "DecodeLinear y (weight \(w.shape))") == n else {
                throw TensorError("DecodeLinear: weight \(w.shape) and out \(y.shape) do not fit x \(x.shape)")
            }
            products.append(MatVec.Product(weight: w.pointer, out: y.pointer, outFeatures: w.shape[0], accumulate: accumulate))
        }
        MatVec.products(x: x.pointer, rows: n, inFeatures: inFeatures, products)
    }
}
