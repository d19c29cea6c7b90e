// `plumb bench decode`: greedy decoding of one sequence with the KV cache, one JSON line.
import ArgumentParser
import Foundation
import PlumbModel
import PlumbTensor

struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Greedy decoding throughput of one sequence (compare with llama2.c run.c on the same weights).")

    @OptionGroup var source: ModelSourceOptions
    @OptionGroup var decode: DecodeWeightsOption
    @Option(help: "New tokens to decode.") var newTokens: Int = 256
    @Option(help: "Prompt token ids, comma-separated.") var promptIds: String = "1"
    @Option(help: "Also write the benchmarked weights as a llama2.c .bin here (for run.c).") var exportLlama2c: String?
    @Flag(help: "Include the generated token ids in the output.") var printTokens = false
    @Option(help: "Decode through a LoRA adapter of these settings (e.g. \"rank=8 alpha=16\"), unmerged: PEFT's init, B drawn N(0, 0.02).")
    var lora: String?

    func run() throws {
        let prompt = try parseTokenIds(promptIds, option: "--prompt-ids")
        try source.checkBench("bench decode", positions: prompt.count, option: "--prompt-ids (count)") {
            BenchBudget.decodingBytes($0, sequences: 1, capacity: min($0.maxSeqLen, prompt.count + newTokens))
        }
        let model = try source.load()
        if let path = exportLlama2c { try model.exportLlama2c(to: URL(fileURLWithPath: path)) }
        let capacity = min(model.config.maxSeqLen, prompt.count + newTokens)
        let adapter = try lora.map { text -> LoRAAdapter in
            let a = try LoRAAdapter(config: model.config, settings: try LoRASettings(parsing: text), seed: source.seed &+ 1)
            var rng = SeededRNG(seed: source.seed &+ 2)
            for m in a.allModules { rng.fillNormal(m.b, std: 0.02) }
            return a
        }
        let result = try ModelBenchmarks.decode(weights: model.weights, config: model.config,
                                                requests: [GenerationRequest(prompt: prompt)],
                                                options: GenerationOptions(maxNewTokens: newTokens), capacity: capacity,
                                                format: decode.weights, adapter: adapter)
        var out: [String: Any] = [
            "benchmark": "decode", "model": source.description, "weights": decode.weights.rawValue, "prompt_tokens": prompt.count,
            "lora": lora ?? "none", "new_tokens": result.newTokens, "seconds": result.seconds, "tokens_per_second": result.tokensPerSecond,
            "peak_rss_bytes": peakRSSBytes() ?? -1,
        ]
        if printTokens { out["tokens"] = result.firstTokens.map(Int.init) }
        try printJSON(out)
    }
}
