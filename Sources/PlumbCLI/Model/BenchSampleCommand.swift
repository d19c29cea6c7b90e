// `plumb bench sample`: k completions of each of several prompts decoded together, one JSON line.
import ArgumentParser
import PlumbModel
import PlumbTensor

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
        let needed = promptLength + newTokens
        try source.checkBench("bench sample", positions: needed, option: "--prompt-length + --new-tokens") {
            BenchBudget.decodingBytes($0, sequences: prompts * samples, capacity: needed)
        }
        var model = try source.load()
        if needed > model.config.maxSeqLen {
            // The bench decodes past the preset's context; RoPE extends, so widen the context (reported below).
            let wider = model.config.with(maxSeqLen: needed)
            let copy = try LlamaModel(config: wider, heads: .lm)
            try copy.load(try model.tensors(), source: source.description)
            model = copy
        }
        var rng = SeededRNG(seed: source.seed &+ 7)
        let requests = (0..<prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<promptLength).map { _ in Int32(rng.next() % UInt64(model.config.vocabSize)) },
                              samples: samples, seed: UInt64(p))
        }
        let result = try ModelBenchmarks.decode(weights: model.weights, config: model.config, requests: requests,
                                                options: GenerationOptions(maxNewTokens: newTokens, sampling: .random(temperature: temperature, topK: 0, topP: 1)),
                                                capacity: needed, format: decode.weights)
        try printJSON([
            "benchmark": "sample", "threads": EngineThreads.cores, "model": source.description, "weights": decode.weights.rawValue, "prompts": prompts, "samples_per_prompt": samples,
            "sequences": result.sequences, "prompt_tokens": promptLength, "new_tokens": result.newTokens,
            "context": model.config.maxSeqLen, "seconds": result.seconds, "tokens_per_second": result.tokensPerSecond,
            "peak_rss_bytes": peakRSSBytes() ?? -1,
        ])
    }
}
