// `plumb bench train`: the flags of TrainBench (PlumbModel/Benchmarks), its report as one JSON line.
import ArgumentParser
import PlumbModel

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training-step throughput (forward, backward, clip, AdamW) against the sgemm ceiling measured in the same run.")

    @Option(help: "Model shape.") var preset: LlamaPreset = .stories15m
    @Option(help: "Sequences per batch.") var batchSize: Int = 8
    @Option(help: "Tokens per sequence.") var seqLen: Int = 256
    @Option(help: "Timed steps (after one warm-up step).") var steps: Int = 3
    @Option(help: "Seed of weights and tokens.") var seed: UInt64 = 0
    @Flag(help: "Time each kind of kernel during the timed steps (StepProfile): seconds per step and share of the step.")
    var profile = false

    func validate() throws {
        guard batchSize > 0, seqLen > 0, steps > 0 else { throw ValidationError("--batch-size, --seq-len and --steps must be positive") }
    }

    func run() throws {
        var o = TrainBench.Options()
        (o.preset, o.batchSize, o.seqLen, o.steps, o.seed, o.profile) = (preset, batchSize, seqLen, steps, seed, profile)
        try printReport(TrainBench.run(o))
    }
}
