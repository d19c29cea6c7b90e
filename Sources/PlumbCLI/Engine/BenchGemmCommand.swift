// `plumb bench gemm`: the flags of GemmBench (PlumbTensor/Benchmarks), its report as one JSON object.
import ArgumentParser
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
        var options = GemmBench.Options()
        (options.repetitions, options.tokens, options.ceilingSize) = (repetitions, tokens, ceilingSize)
        try printReport(GemmBench.run(options))
    }
}
