// Matrix products: every one goes through `cblas_sgemm` (row-major), with a naive triple loop
// beside it (Double accumulation) as the test oracle (llm.c `matmul_forward_naive`).
import CBLAS

/// Which implementation computes a product.
public enum MatmulKernel: Sendable {
    /// OpenBLAS `cblas_sgemm`.
    case blas
    /// The reference triple loop, accumulating in Double.
    case naive
}

public enum Matmul {
    /// C = alpha * op(A) * op(B) + beta * C on raw row-major matrices, op(X) = X or X^T.
    /// op(A) is (m, k), op(B) is (k, n), C is (m, n); `lda`, `ldb`, `ldc` are row strides in floats.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, kernel: MatmulKernel = .blas
    ) {
        if m == 0 || n == 0 { return }
        switch kernel {
        case .blas:
            EngineThreads.configureBLAS()
            cblas_sgemm(
                CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        case .naive:
            sgemmNaive(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                       a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    /// The reference kernel for `sgemm`: a triple loop with a Double accumulator.
    public static func sgemmNaive(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let aip = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let bpj = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(aip) * Double(bpj)
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]   // beta 0 ignores NaN in C, as BLAS does
                c[i * ldc + j] = alpha * Float(acc) + old
            }
        }
    }

    /// C (m, n) = alpha * op(A) * op(B) + beta * C on tensors read as matrices: each operand's last
    /// dimension is its column count and its leading dimensions are flattened into rows.
    public static func gemm(
        _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false, into c: Tensor,
        alpha: Float = 1, beta: Float = 0, kernel: MatmulKernel = .blas
    ) throws {
        let profiled = StepProfile.begin(.matmul); defer { StepProfile.end(profiled) }
        let (aRows, aCols) = try matrixShape(a, "gemm A"), (bRows, bCols) = try matrixShape(b, "gemm B")
        let (cRows, cCols) = try matrixShape(c, "gemm C")
        let (m, k) = transposeA ? (aCols, aRows) : (aRows, aCols)
        let (kb, n) = transposeB ? (bCols, bRows) : (bRows, bCols)
        guard k == kb, cRows == m, cCols == n else {
            throw TensorError("gemm: op(A) is (\(m), \(k)) from \(a.shape)\(transposeA ? "^T" : ""), op(B) is (\(kb), \(n)) from \(b.shape)\(transposeB ? "^T" : ""), C is \(c.shape)")
        }
        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
              a: a.pointer, lda: aCols, b: b.pointer, ldb: bCols, beta: beta, c: c.pointer, ldc: cCols, kernel: kernel)
    }

    /// Batched product: for each i, C[i] = alpha * op(A[i]) * op(B[i]) + beta * C[i], where A, B, C
    /// are rank-3 (batch, rows, cols). A loop of sgemm calls, one batch entry at a time.
    public static func batched(
        _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false, into c: Tensor,
        alpha: Float = 1, beta: Float = 0, kernel: MatmulKernel = .blas
    ) throws {
        guard a.rank == 3, b.rank == 3, c.rank == 3, a.shape[0] == b.shape[0], a.shape[0] == c.shape[0] else {
            throw TensorError("batched gemm: need rank-3 operands with one batch size, got \(a.shape), \(b.shape), \(c.shape)")
        }
        for i in 0..<a.shape[0] {
            try gemm(try a.row(i), transposeA: transposeA, try b.row(i), transposeB: transposeB, into: try c.row(i),
                     alpha: alpha, beta: beta, kernel: kernel)
        }
    }

    private static func matrixShape(_ t: Tensor, _ what: String) throws -> (rows: Int, cols: Int) {
        guard t.rank >= 1 else { throw TensorError("\(what): a scalar is not a matrix") }
        let cols = t.shape[t.rank - 1]
        return (cols == 0 ? 0 : t.count / cols, cols)
    }
}
