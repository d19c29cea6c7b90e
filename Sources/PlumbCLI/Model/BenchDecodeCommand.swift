// `plumb bench decode`: greedy decoding of one sequence with the KV cache, one JSON line.
import ArgumentParser
import Foundation
import PlumbModel

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

    func run() throws {
        let prompt = try parseTokenIds(promptIds, option: "--prompt-ids")
        try source.checkBench("bench decode", positions: prompt.count, option: "--prompt-ids (count)") {
            BenchBudget.decodingBytes($0, sequences: 1, capacity: min($0.maxSeqLen, prompt.count + newTokens))
        }
        let model = try source.load()
        if let path = exportLlama2c { try model.exportLlama2c(to: URL(fileURLWithPath: path)) }
        let capacity = min(model.config.maxSeqLen, prompt.count + newTokens)
        let result = try ModelBenchmarks.decode(weights: model.weights, config: model.config,
                                                requests: [GenerationRequest(prompt: prompt)],
                                                options: GenerationOptions(maxNewTokens: newTokens), capacity: capacity,
                                                format: decode.weights)
        var out: [String: Any] = [
            "benchmark": "decode", "model": source.description, "weights": decode.weights.rawValue, "prompt_tokens": prompt.count,
            "new_tokens": result.newTokens, "seconds": result.seconds, "tokens_per_second": result.tokensPerSecond,
            "peak_rss_bytes": peakRSSBytes() ?? -1,
        ]
        if printTokens { out["tokens"] = result.firstTokens.map(Int.init) }
        try printJSON(out)
    }
}
