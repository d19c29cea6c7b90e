// `plumb bench ppo`: the flags of PPOBench (PlumbStages/Benchmarks), its report as one JSON line.
import ArgumentParser
import PlumbStages

struct BenchPPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo", abstract: "PPO iteration throughput (rollout, scoring, update) against bench sample and the sgemm ceiling.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Prompts (one response each) per iteration.") var prompts = 64
    @Option(help: "Most new tokens per response.") var newTokens = 128
    @Option(help: "Tokens per (random) prompt.") var promptLength = 32
    @Option(help: "Share of the vocabulary that stops a sequence (lengths vary).") var stopShare = 1.0 / 64
    @Option(help: "PPO epochs.") var epochs = 4
    @Option(help: "Mini-batches per epoch.") var miniBatches = 4
    @Option(help: "Rows of the training forward passes.") var rows = 8
    @Option(help: "Alternating repeats of the rollout and its anchor.") var repeats = 2
    @Option(help: "Sequences the rollout decodes at once (default: every prompt; fewer refill finished slots with waiting prompts).")
    var slots: Int?
    @Flag(help: "Measure the rollout and its anchor only (no scoring, no update).") var rolloutOnly = false

    func validate() throws {
        if let slots, slots < 1 || slots > prompts { throw ValidationError("--slots must be in 1...\(prompts) (--prompts)") }
    }

    func run() throws {
        var o = PPOBench.Options()
        (o.prompts, o.newTokens, o.promptLength, o.stopShare, o.epochs, o.miniBatches, o.rows, o.repeats, o.slots, o.seed) =
            (prompts, newTokens, promptLength, stopShare, epochs, miniBatches, rows, repeats, slots, source.seed)
        try source.checkBench("bench ppo", positions: o.seqLen + 1, option: "--prompt-length + --new-tokens", bytes: o.estimatedBytes)
        let model = try source.load()
        if rolloutOnly {
            try printReport(PPOBench.rolloutOnly(model: model, description: source.description, o))
        } else {
            try printReport(PPOBench.run(model: model, description: source.description, o))
        }
    }
}
