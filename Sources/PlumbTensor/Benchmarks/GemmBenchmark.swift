// The sgemm benchmark behind `plumb bench gemm`: a ceiling probe (large square products) measured
// in the same run, then the products one linear layer of a 15M-parameter Llama makes in training
// (forward, dX, dW), each as GFLOP/s and as a fraction of the ceiling.
import Foundation

/// Which of a linear layer's three products.
public enum LinearProductRole: String, CaseIterable, Sendable {
    case forward   // y  (M, out) = x (M, in) W^T
    case dX        // dx (M, in)  = dy (M, out) W
    case dW        // dW (out, in) = dy^T (out, M) x (M, in)
}

/// One sgemm call C (m, n) = op(A) (m, k) op(B) (k, n).
public struct GemmShape: Sendable, Equatable {
    public let m: Int, n: Int, k: Int
    public let transposeA: Bool, transposeB: Bool
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// The product of `role` for a linear layer (in -> out) over `tokens` rows, as Linear issues it.
    public init(linearRole role: LinearProductRole, tokens: Int, inFeatures: Int, outFeatures: Int) {
        switch role {
        case .forward: (m, n, k, transposeA, transposeB) = (tokens, outFeatures, inFeatures, false, true)
        case .dX: (m, n, k, transposeA, transposeB) = (tokens, inFeatures, outFeatures, false, false)
        case .dW: (m, n, k, transposeA, transposeB) = (outFeatures, inFeatures, tokens, true, false)
        }
    }

    public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false) {
        self.m = m; self.n = n; self.k = k; self.transposeA = transposeA; self.transposeB = transposeB
    }
}

public struct GemmTiming: Sendable {
    public let shape: GemmShape
    /// Fastest of the timed repetitions (one untimed warm-up precedes them).
    public let bestSeconds: Double
    public var gflops: Double { shape.flops / bestSeconds / 1e9 }
}

public enum GemmBenchmark {
    /// The linear layers of the 15M Llama (dim 288, hidden 768, vocabulary 32000) as (in, out).
    public static let llama15MLayers: [(name: String, inFeatures: Int, outFeatures: Int)] = [
        ("attention projection 288x288", 288, 288),
        ("ffn up/gate 288x768", 288, 768),
        ("lm head 288x32000", 288, 32000),
    ]

    /// Times C = op(A) op(B) through `Matmul.sgemm` on random operands.
    public static func time(_ shape: GemmShape, repetitions: Int, seed: UInt64 = 1) -> GemmTiming {
        var rng = SeededRNG(seed: seed)
        let a = Tensor(zeros: [shape.m * shape.k]), b = Tensor(zeros: [shape.k * shape.n]), c = Tensor(zeros: [shape.m * shape.n])
        rng.fillNormal(a, std: 1); rng.fillNormal(b, std: 1)
        let lda = shape.transposeA ? shape.m : shape.k, ldb = shape.transposeB ? shape.k : shape.n
        var best = Double.infinity
        for rep in 0...max(1, repetitions) {   // rep 0 warms up caches and BLAS threads
            let start = DispatchTime.now().uptimeNanoseconds
            Matmul.sgemm(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k,
                         alpha: 1, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, beta: 0, c: c.pointer, ldc: shape.n)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if rep > 0 { best = min(best, seconds) }
        }
        return GemmTiming(shape: shape, bestSeconds: best)
    }

    /// The fastest square product among `sizes` (GFLOP/s): the ceiling probe.
    public static func ceiling(sizes: [Int], repetitions: Int) -> GemmTiming {
        sizes.map { time(GemmShape(m: $0, n: $0, k: $0), repetitions: repetitions) }.max { $0.gflops < $1.gflops }!
    }
}
