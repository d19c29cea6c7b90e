// `plumb bench decode`: greedy decoding of one sequence with the KV cache (ModelBenchmarks.decode),
// optionally through a LoRA adapter held unmerged (PEFT's init, B drawn N(0, 0.02) so it is not a
// no-op); compare with llama2.c run.c on the same weights (`exportLlama2c`).
import Foundation
import PlumbFiles
import PlumbTensor

public enum DecodeBench {
    public struct Options: Sendable {
        public var newTokens = 256
        public var promptIds: [Int32] = [1]
        /// Also write the benchmarked weights as a llama2.c .bin here.
        public var exportLlama2c: URL?
        /// Include the generated token ids in the report.
        public var printTokens = false
        /// LoRA settings text ("rank=8 alpha=16"), or nil to decode the bare weights.
        public var lora: String?
        public var weights: DecodeWeightFormat = .f32
        /// Seed of the model source; the adapter takes seed + 1, its B seed + 2.
        public var seed: UInt64 = 0
        public init() {}

        /// What a random model of `config` needs for this decode (BenchBudget).
        public func estimatedBytes(_ config: LlamaConfig) -> Int {
            BenchBudget.decodingBytes(config, sequences: 1, capacity: min(config.maxSeqLen, promptIds.count + newTokens))
        }
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "decode"
        public var model: String
        public var weights: String
        public var promptTokens: Int
        public var lora: String
        public var newTokens: Int
        public var seconds: Double
        public var tokensPerSecond: Double
        public var peakRSSBytes: Int
        public var tokens: [Int]?
        enum CodingKeys: String, CodingKey {
            case benchmark, model, weights, promptTokens = "prompt_tokens", lora, newTokens = "new_tokens", seconds
            case tokensPerSecond = "tokens_per_second", peakRSSBytes = "peak_rss_bytes", tokens
        }
    }

    public static func run(model: LlamaModel, description: String, _ o: Options) throws -> Report {
        if let url = o.exportLlama2c { try model.exportLlama2c(to: url) }
        let capacity = min(model.config.maxSeqLen, o.promptIds.count + o.newTokens)
        let adapter = try o.lora.map { text -> LoRAAdapter in
            let a = try LoRAAdapter(config: model.config, settings: try LoRASettings(parsing: text), seed: o.seed &+ 1)
            var rng = SeededRNG(seed: o.seed &+ 2)
            for m in a.allModules { rng.fillNormal(m.b, std: 0.02) }
            return a
        }
        let result = try ModelBenchmarks.decode(weights: model.weights, config: model.config, requests: [GenerationRequest(prompt: o.promptIds)],
                                                options: GenerationOptions(maxNewTokens: o.newTokens), capacity: capacity,
                                                format: o.weights, adapter: adapter)
        return Report(model: description, weights: o.weights.rawValue, promptTokens: o.promptIds.count, lora: o.lora ?? "none",
                      newTokens: result.newTokens, seconds: result.seconds, tokensPerSecond: result.tokensPerSecond,
                      peakRSSBytes: peakRSSBytes() ?? -1, tokens: o.printTokens ? result.firstTokens.map(Int.init) : nil)
    }
}
