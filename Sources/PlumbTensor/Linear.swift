// A bias-free linear layer in Hugging Face layout: W is (out, in) and y = x W^T.
//
//   forward:   y  = x W^T          (N, out) = (N, in) (in, out)
//   backward:  dx += dy W          (N, in)  = (N, out) (out, in)
//              dW += dy^T x        (out, in) = (out, N) (N, in)
// Leading (token) dimensions of x and y are flattened into N rows; see `check`. Backward accumulates (beta = 1).

public enum Linear {
    /// y = x W^T; x (..., in), weight (out, in), y (..., out) with the same leading dimensions.
    public static func forward(x: Tensor, weight: Tensor, out y: Tensor, kernel: MatmulKernel = .blas) throws {
        let profiled = StepProfile.begin(.matmul); defer { StepProfile.end(profiled) }
        let (rows, inFeatures, outFeatures) = try check(x: x, weight: weight, y: y, "Linear.forward")
        Matmul.sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                     a: x.pointer, lda: inFeatures, b: weight.pointer, ldb: inFeatures,
                     beta: 0, c: y.pointer, ldc: outFeatures, kernel: kernel)
    }

    /// Adds dL/dx into `dx` (when given) and dL/dW into `dWeight` (when given; pass nil for a frozen W).
    /// When both are wanted and the products are large, they run side by side on ThreadPool.shared,
    /// each on one core with single-threaded BLAS (faster than one after the other on all cores at
    /// every 15m shape: docs/engine.md); each product stays on one thread, so results do not depend on timing.
    public static func backward(
        dOut dy: Tensor, x: Tensor, weight: Tensor, dx: Tensor?, dWeight: Tensor?, kernel: MatmulKernel = .blas
    ) throws {
        let profiled = StepProfile.begin(.matmul); defer { StepProfile.end(profiled) }
        let (rows, inFeatures, outFeatures) = try check(x: x, weight: weight, y: dy, "Linear.backward")
        if let dx { try dx.requireSameShape(x, "Linear.backward dx vs x") }
        if let dWeight { try dWeight.requireSameShape(weight, "Linear.backward dWeight vs weight") }
        // dx += dy W: (rows, in) = (rows, out) (out, in)
        func inputGradient(_ dx: Tensor) {
            Matmul.sgemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
                         a: dy.pointer, lda: outFeatures, b: weight.pointer, ldb: inFeatures,
                         beta: 1, c: dx.pointer, ldc: inFeatures, kernel: kernel)
        }
        // dW += dy^T x: (out, in) = (out, rows) (rows, in)
        func weightGradient(_ dWeight: Tensor) {
            Matmul.sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows, alpha: 1,
                         a: dy.pointer, lda: outFeatures, b: x.pointer, ldb: inFeatures,
                         beta: 1, c: dWeight.pointer, ldc: inFeatures, kernel: kernel)
        }
        if let dx, let dWeight, kernel == .blas, rows * inFeatures * outFeatures >= sideBySideWork {
            ThreadPool.withSingleThreadedBLAS {
                ThreadPool.shared.forEach(chunks: 2) { product, _ in
                    if product == 0 { inputGradient(dx) } else { weightGradient(dWeight) }
                }
            }
            return
        }
        if let dx { inputGradient(dx) }
        if let dWeight { weightGradient(dWeight) }
    }

    /// Multiply-adds per product above which backward runs its two products side by side.
    static let sideBySideWork = 1 << 22

    /// x (tokens..., in-dims...) and y (tokens..., out-dims...): trailing dims of x multiply to `in`,
    /// of y to `out` (so q can be written as (B, T, H, D)), and the token dims must agree.
    private static func check(x: Tensor, weight: Tensor, y: Tensor, _ what: String) throws -> (Int, Int, Int) {
        guard weight.rank == 2 else { throw TensorError("\(what): weight must be (out, in), got \(weight.shape)") }
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        guard let xTokens = tokenDims(x.shape, width: inFeatures), let yTokens = tokenDims(y.shape, width: outFeatures),
              xTokens == yTokens else {
            throw TensorError("\(what): x \(x.shape) and y \(y.shape) do not fit weight \(weight.shape) (x must end in \(inFeatures) features, y in \(outFeatures), over the same leading dimensions)")
        }
        return (xTokens.reduce(1, *), inFeatures, outFeatures)
    }

    /// The shortest prefix of `shape` whose remaining dimensions multiply to `width`, or nil.
    private static func tokenDims(_ shape: [Int], width: Int) -> ArraySlice<Int>? {
        var product = 1
        for k in stride(from: shape.count - 1, through: 0, by: -1) {
            product *= shape[k]
            if product == width { return shape[..<k] }
            if product > width && width > 0 { return nil }
        }
        return nil
    }
}
