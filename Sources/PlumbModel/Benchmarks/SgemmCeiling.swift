// The sgemm ceiling: the best rate cblas_sgemm reaches on this machine, measured on square products.
// LOCAL to the model benchmarks until the engine exposes its own probe (`plumb bench gemm`); the
// lead is told. Best of several repetitions, so a busy machine lowers it less than a mean would.
import Foundation
import PlumbTensor

public enum SgemmCeiling {
    /// GFLOP/s of the fastest of `repeats` products C = A B with A, B, C (n, n); 2 n^3 flops each.
    public static func measure(n: Int = 1536, repeats: Int = 5) -> Double {
        var rng = SeededRNG(seed: 1)
        let a = Tensor(zeros: [n, n]), b = Tensor(zeros: [n, n]), c = Tensor(zeros: [n, n])
        rng.fillNormal(a, std: 1); rng.fillNormal(b, std: 1)
        var best = Double.infinity
        for _ in 0..<repeats + 1 {   // the first call warms up threads and caches
            let start = DispatchTime.now().uptimeNanoseconds
            try! Matmul.gemm(a, b, into: c)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(n * n * n) / best / 1e9
    }
}
