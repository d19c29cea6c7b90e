// `plumb bench rs`: the flags of RSBench (PlumbStages/Benchmarks), its report as one JSON line.
import ArgumentParser
import PlumbStages

struct BenchRSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs",
        abstract: "Rejection-sampling throughput: continuous batching against waiting for the longest member, and reward scoring.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Prompts.") var prompts = 64
    @Option(help: "Samples per prompt (k).") var samples = 8
    @Option(help: "Sequences decoded at once.") var slots = 64
    @Option(help: "Most new tokens per sample.") var newTokens = 256
    @Option(help: "Tokens per (random) prompt.") var promptLength = 16
    @Option(help: "Share of the vocabulary that stops a sequence (lengths vary; mean about 1 / share).") var stopShare = 1.0 / 64
    @Option(help: "Alternating repeats of each sampling variant.") var repeats = 2

    func validate() throws {
        guard prompts > 0, samples > 0, slots >= samples, newTokens > 0, promptLength > 0, repeats > 0, stopShare > 0, stopShare < 1 else {
            throw ValidationError("positive sizes, --slots >= --samples, 0 < --stop-share < 1")
        }
    }

    func run() throws {
        var o = RSBench.Options()
        (o.prompts, o.samples, o.slots, o.newTokens, o.promptLength, o.stopShare, o.repeats, o.seed) =
            (prompts, samples, slots, newTokens, promptLength, stopShare, repeats, source.seed)
        try printReport(RSBench.run(model: try source.load(), description: source.description, o))
    }
}
