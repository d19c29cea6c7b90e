// `plumb bench gemm`: this machine's sgemm ceiling, and the products of a 15M Llama at batch 8 x 256
// tokens, each as a fraction of that ceiling. The ceiling probe runs before and after the products,
// over three square sizes (the largest, half and a quarter of it), with at least 5 repetitions; the
// fastest is the ceiling. Short probes matter on a shared machine: a 5 ms product can land in a quiet
// moment that a 0.3 s product cannot.
import Foundation

public enum GemmBench {
    public struct Options: Codable, Sendable {
        /// Timed repetitions of each product (the best is reported; one warm-up precedes them).
        public var repetitions = 3
        /// Rows M of the activations (tokens per batch: 8 x 256 = 2048).
        public var tokens = 2048
        /// Largest side of the square products of the ceiling probe.
        public var ceilingSize = 2048
        public init() {}
    }

    public struct Ceiling: Codable, Sendable {
        public var shape: String
        public var bestSeconds: Double
        public var gflops: Double
        public var gflopsProbeBefore: Double
        public var gflopsProbeAfter: Double
        enum CodingKeys: String, CodingKey {
            case shape, bestSeconds = "best_seconds", gflops, gflopsProbeBefore = "gflops_probe_before", gflopsProbeAfter = "gflops_probe_after"
        }
    }

    public struct Product: Codable, Sendable {
        public var layer: String
        public var role: String
        public var shape: String
        public var m: Int, n: Int, k: Int
        public var transposeA: Bool, transposeB: Bool
        public var bestSeconds: Double
        public var gflops: Double
        /// gflops / the ceiling's gflops, both unrounded, rounded to 3 digits.
        public var fractionOfCeiling: Double
        enum CodingKeys: String, CodingKey {
            case layer, role, shape, m, n, k, transposeA = "transpose_a", transposeB = "transpose_b", bestSeconds = "best_seconds", gflops
            case fractionOfCeiling = "fraction_of_ceiling"
        }
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "gemm"
        public var blasThreads: Int
        public var repetitions: Int
        public var tokens: Int
        public var ceiling: Ceiling
        public var products: [Product]
        enum CodingKeys: String, CodingKey { case benchmark, blasThreads = "blas_threads", repetitions, tokens, ceiling, products }
    }

    /// The ceiling probe, every product of `GemmBenchmark.llama15MLayers` in each role, the probe again.
    public static func run(_ options: Options) -> Report {
        let sizes = [options.ceilingSize / 4, options.ceilingSize / 2, options.ceilingSize].filter { $0 > 0 }
        let probeRepetitions = max(options.repetitions, 5)
        let before = GemmBenchmark.ceiling(sizes: sizes, repetitions: probeRepetitions)
        var timings: [(layer: String, role: LinearProductRole, timing: GemmTiming)] = []
        for layer in GemmBenchmark.llama15MLayers {
            for role in LinearProductRole.allCases {
                let shape = GemmShape(linearRole: role, tokens: options.tokens, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures)
                timings.append((layer.name, role, GemmBenchmark.time(shape, repetitions: options.repetitions)))
            }
        }
        let after = GemmBenchmark.ceiling(sizes: sizes, repetitions: probeRepetitions)
        let ceiling = before.gflops >= after.gflops ? before : after
        let products = timings.map { layer, role, t in
            Product(layer: layer, role: role.rawValue, shape: describe(t.shape), m: t.shape.m, n: t.shape.n, k: t.shape.k,
                    transposeA: t.shape.transposeA, transposeB: t.shape.transposeB, bestSeconds: t.bestSeconds,
                    gflops: rounded(t.gflops), fractionOfCeiling: rounded(t.gflops / ceiling.gflops, 3))
        }
        return Report(blasThreads: EngineThreads.cores, repetitions: options.repetitions, tokens: options.tokens,
                      ceiling: Ceiling(shape: describe(ceiling.shape), bestSeconds: ceiling.bestSeconds, gflops: rounded(ceiling.gflops),
                                       gflopsProbeBefore: rounded(before.gflops), gflopsProbeAfter: rounded(after.gflops)),
                      products: products)
    }

    /// "(MxK)(KxN)" with " A^T" / " B^T" for a transposed operand.
    static func describe(_ s: GemmShape) -> String {
        "(\(s.m)x\(s.k))(\(s.k)x\(s.n))" + (s.transposeA ? " A^T" : "") + (s.transposeB ? " B^T" : "")
    }

    static func rounded(_ x: Double, _ digits: Int = 2) -> Double {
        let scale = pow(10, Double(digits))
        return (x * scale).rounded() / scale
    }
}
