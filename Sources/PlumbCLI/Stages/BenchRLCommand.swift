// `plumb bench rl`: the flags of RLBench (PlumbStages/Benchmarks), its report as one JSON line.
import ArgumentParser
import PlumbStages

struct BenchRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rl", abstract: "Seconds per iteration of the rl stage's estimators (rloo, grpo, reinforce++) against PPO's on the same rollouts.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Prompts per iteration.") var prompts = 16
    @Option(help: "Responses per prompt (every estimator gets the same prompts x group-size responses).") var groupSize = 4
    @Option(help: "Most new tokens per response.") var newTokens = 64
    @Option(help: "Tokens per (random) prompt.") var promptLength = 32
    @Option(help: "Share of the vocabulary that stops a sequence (lengths vary).") var stopShare = 1.0 / 64
    @Option(help: "Passes over each iteration's responses.") var epochs = 2
    @Option(help: "Mini-batches per pass (one optimiser step each).") var miniBatches = 2
    @Option(help: "Rows of the training forward passes.") var rows = 8
    @Option(help: "Repeats; within each, the estimators alternate.") var repeats = 3
    @Option(help: "Sequences the rollout decodes at once (default: every response; fewer refill finished slots).") var slots: Int?

    func validate() throws {
        if let slots, slots < 1 || slots > prompts * groupSize { throw ValidationError("--slots must be in 1...\(prompts * groupSize) (--prompts x --group-size)") }
    }

    func run() throws {
        var o = RLBench.Options()
        (o.prompts, o.groupSize, o.newTokens, o.promptLength, o.stopShare, o.epochs, o.miniBatches, o.rows, o.repeats, o.slots, o.seed) =
            (prompts, groupSize, newTokens, promptLength, stopShare, epochs, miniBatches, rows, repeats, slots, source.seed)
        try source.checkBench("bench rl", positions: o.seqLen + 1, option: "--prompt-length + --new-tokens", bytes: o.estimatedBytes)
        try printReport(RLBench.run(model: try source.load(), description: source.description, o))
    }
}
