// y = x W^T (+ y) for the few rows of a decoding step. With one or two rows, OpenBLAS's sgemm packs
// all of W on every call (sgemm_incopy dominated a profile of greedy decoding), so those rows go
// through cblas_sgemv, which streams W once; more rows go through the engine's sgemm.
// LOCAL to decoding: the engine has no matrix-vector entry point yet (the lead is told).
import CBLAS
import PlumbTensor

enum DecodeLinear {
    /// Rows up to which matrix-vector products win over one packed sgemm.
    static let gemvRows = 2

    /// y (n, out) = x (n, in) W^T + beta * y, W (out, in).
    static func forward(x: Tensor, weight: Tensor, out y: Tensor, beta: Float = 0) throws {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        let n = try x.rowCount(width: inFeatures, "DecodeLinear x (weight \(weight.shape))")
        guard try y.rowCount(width: outFeatures, "DecodeLinear y (weight \(weight.shape))") == n else {
            throw TensorError("DecodeLinear: x \(x.shape) and y \(y.shape) have different row counts")
        }
        guard n <= gemvRows else {
            try Matmul.gemm(x, weight, transposeB: true, into: y, beta: beta)
            return
        }
        EngineThreads.configureBLAS()
        for r in 0..<n {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outFeatures), Int32(inFeatures), 1, weight.pointer, Int32(inFeatures),
                        x.pointer + r * inFeatures, 1, beta, y.pointer + r * outFeatures, 1)
        }
    }
}
