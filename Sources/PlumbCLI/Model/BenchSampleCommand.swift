// `plumb bench sample`: the flags of SampleBench (PlumbModel/Benchmarks), its report as one JSON line.
import ArgumentParser
import PlumbModel

struct BenchSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Batched sampling throughput: k completions per prompt, all decoded together.")

    @OptionGroup var source: ModelSourceOptions
    @OptionGroup var decode: DecodeWeightsOption
    @Option(help: "Prompts.") var prompts: Int = 8
    @Option(help: "Completions per prompt (k).") var samples: Int = 8
    @Option(help: "New tokens per completion.") var newTokens: Int = 256
    @Option(help: "Tokens per (random) prompt.") var promptLength: Int = 16
    @Option(help: "Sampling temperature.") var temperature: Float = 1

    func validate() throws {
        guard prompts > 0, samples > 0, newTokens > 0, promptLength > 0, temperature > 0 else {
            throw ValidationError("--prompts, --samples, --new-tokens, --prompt-length and --temperature must be positive")
        }
    }

    func run() throws {
        var o = SampleBench.Options()
        (o.prompts, o.samples, o.newTokens, o.promptLength, o.temperature, o.weights, o.seed) =
            (prompts, samples, newTokens, promptLength, temperature, decode.weights, source.seed)
        try source.checkBench("bench sample", positions: o.positions, option: "--prompt-length + --new-tokens", bytes: o.estimatedBytes)
        try printReport(SampleBench.run(model: try source.load(), description: source.description, o))
    }
}
