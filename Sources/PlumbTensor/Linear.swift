// A bias-free linear layer in Hugging Face layout: W is (out, in) and y = x W^T.
//
//   forward:   y  = x W^T          (N, out) = (N, in) (in, out)
//   backward:  dx += dy W          (N, in)  = (N, out) (out, in)
//              dW += dy^T x        (out, in) = (out, N) (N, in)
// Leading dimensions of x and y are flattened into N rows. Backward accumulates (beta = 1).

public enum Linear {
    /// y = x W^T; x (..., in), weight (out, in), y (..., out) with the same leading dimensions.
    public static func forward(x: Tensor, weight: Tensor, out y: Tensor, kernel: MatmulKernel = .blas) throws {
        let (rows, inFeatures, outFeatures) = try check(x: x, weight: weight, y: y, "Linear.forward")
        Matmul.sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                     a: x.pointer, lda: inFeatures, b: weight.pointer, ldb: inFeatures,
                     beta: 0, c: y.pointer, ldc: outFeatures, kernel: kernel)
    }

    /// Adds dL/dx into `dx` (when given) and dL/dW into `dWeight` (when given; pass nil for a frozen W).
    public static func backward(
        dOut dy: Tensor, x: Tensor, weight: Tensor, dx: Tensor?, dWeight: Tensor?, kernel: MatmulKernel = .blas
    ) throws {
        let (rows, inFeatures, outFeatures) = try check(x: x, weight: weight, y: dy, "Linear.backward")
        if let dx {
            try dx.requireSameShape(x, "Linear.backward dx vs x")
            Matmul.sgemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
                         a: dy.pointer, lda: outFeatures, b: weight.pointer, ldb: inFeatures,
                         beta: 1, c: dx.pointer, ldc: inFeatures, kernel: kernel)
        }
        if let dWeight {
            try dWeight.requireSameShape(weight, "Linear.backward dWeight vs weight")
            Matmul.sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows, alpha: 1,
                         a: dy.pointer, lda: outFeatures, b: x.pointer, ldb: inFeatures,
                         beta: 1, c: dWeight.pointer, ldc: inFeatures, kernel: kernel)
        }
    }

    private static func check(x: Tensor, weight: Tensor, y: Tensor, _ what: String) throws -> (Int, Int, Int) {
        guard weight.rank == 2 else { throw TensorError("\(what): weight must be (out, in), got \(weight.shape)") }
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        let rows = try x.rowCount(width: inFeatures, "\(what) x (weight \(weight.shape))")
        let yRows = try y.rowCount(width: outFeatures, "\(what) y (weight \(weight.shape))")
        guard rows == yRows, Array(x.shape.dropLast()) == Array(y.shape.dropLast()) else {
            throw TensorError("\(what): x \(x.shape) and y \(y.shape) have different leading dimensions")
        }
        return (rows, inFeatures, outFeatures)
    }
}
