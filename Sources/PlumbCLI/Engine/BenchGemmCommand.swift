// `plumb bench gemm`: this machine's sgemm ceiling, and the products of a 15M Llama at
// batch 8 x 256 tokens, each as a fraction of that ceiling (release builds).
import ArgumentParser
import Foundation
import PlumbTensor

struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "sgemm ceiling and the products of a 15M Llama (forward, dX, dW); prints one JSON object."
    )

    @Option(help: "Timed repetitions of each product (the best is reported; one warm-up precedes them).")
    var repetitions = 3

    @Option(help: "Rows M of the activations (tokens per batch: 8 x 256 = 2048).")
    var tokens = 2048

    @Option(help: "Largest side of the square products used as the ceiling probe (it, half and a quarter of it are tried).")
    var ceilingSize = 2048

    func validate() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        guard tokens >= 1, ceilingSize >= 1 else { throw ValidationError("--tokens and --ceiling-size must be positive") }
    }

    func run() throws {
        // The probe runs before and after the products, over three square sizes, with at least 5
        // repetitions; the fastest is the ceiling. Short probes matter on a shared machine: a 5 ms
        // product can land in a quiet moment that a 0.3 s product cannot.
        let sizes = [ceilingSize / 4, ceilingSize / 2, ceilingSize].filter { $0 > 0 }
        let probeRepetitions = max(repetitions, 5)
        let before = GemmBenchmark.ceiling(sizes: sizes, repetitions: probeRepetitions)
        var timings: [(layer: String, role: LinearProductRole, timing: GemmTiming)] = []
        for layer in GemmBenchmark.llama15MLayers {
            for role in LinearProductRole.allCases {
                let shape = GemmShape(linearRole: role, tokens: tokens, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures)
                timings.append((layer.name, role, GemmBenchmark.time(shape, repetitions: repetitions)))
            }
        }
        let after = GemmBenchmark.ceiling(sizes: sizes, repetitions: probeRepetitions)
        let ceiling = before.gflops >= after.gflops ? before : after
        var products: [[String: Any]] = []
        for (layer, role, t) in timings {
            let shape = t.shape
            products.append([
                "layer": layer, "role": role.rawValue, "shape": describe(shape),
                "m": shape.m, "n": shape.n, "k": shape.k, "transpose_a": shape.transposeA, "transpose_b": shape.transposeB,
                "best_seconds": t.bestSeconds, "gflops": rounded(t.gflops), "fraction_of_ceiling": rounded(t.gflops / ceiling.gflops, 3),
            ])
        }
        try printJSON([
            "benchmark": "gemm",
            "blas_threads": EngineThreads.cores,
            "repetitions": repetitions,
            "tokens": tokens,
            "ceiling": ["shape": describe(ceiling.shape), "best_seconds": ceiling.bestSeconds, "gflops": rounded(ceiling.gflops),
                        "gflops_probe_before": rounded(before.gflops), "gflops_probe_after": rounded(after.gflops)],
            "products": products,
        ])
    }

    private func describe(_ s: GemmShape) -> String {
        "(\(s.m)x\(s.k))(\(s.k)x\(s.n))" + (s.transposeA ? " A^T" : "") + (s.transposeB ? " B^T" : "")
    }

    private func rounded(_ x: Double, _ digits: Int = 2) -> Double {
        let scale = pow(10, Double(digits))
        return (x * scale).rounded() / scale
    }
}
