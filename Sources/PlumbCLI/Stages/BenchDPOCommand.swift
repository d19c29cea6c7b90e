// `plumb bench dpo`: the flags of DPOBench (PlumbStages/Benchmarks), its report as one JSON line.
import ArgumentParser
import PlumbModel
import PlumbStages

struct BenchDPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "DPO step throughput (pairs/s) with a cached reference, against the sgemm ceiling measured in the same run.")

    @Option(help: "Model shape.") var preset: LlamaPreset = .stories15m
    @Option(help: "Pairs per step.") var pairs = 4
    @Option(help: "Tokens per response sequence (prompt + response).") var seqLen = 256
    @Option(help: "Prompt tokens of each sequence.") var promptLength = 64
    @Option(help: "Timed steps (after one warm-up step).") var steps = 3
    @Option(help: "Seed of weights and tokens.") var seed: UInt64 = 0
    @Option(help: "Loss of the DPO family (simpo and orpo need no reference).") var loss: DPOLossKind = .sigmoid
    @Flag(help: "Compute the reference's log-probabilities every step (no cache).") var uncachedReference = false

    func validate() throws {
        guard pairs > 0, seqLen > promptLength + 1, promptLength > 0, steps > 0 else { throw ValidationError("positive sizes and --seq-len > --prompt-length + 1") }
        guard !uncachedReference || loss.needsReference else { throw ValidationError("--loss \(loss.rawValue) uses no reference: drop --uncached-reference") }
    }

    func run() throws {
        var o = DPOBench.Options()
        (o.preset, o.pairs, o.seqLen, o.promptLength, o.steps, o.seed, o.loss, o.uncachedReference) =
            (preset, pairs, seqLen, promptLength, steps, seed, loss, uncachedReference)
        try printReport(DPOBench.run(o))
    }
}
