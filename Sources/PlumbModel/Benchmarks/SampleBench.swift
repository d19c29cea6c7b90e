// `plumb bench sample`: k completions of each of several random prompts decoded together
// (ModelBenchmarks.decode with random sampling). A decode past the model's context widens it (RoPE
// extends); the report gives the context used.
import Foundation
import PlumbFiles
import PlumbTensor

public enum SampleBench {
    public struct Options: Sendable {
        public var prompts = 8
        /// Completions per prompt (k).
        public var samples = 8
        public var newTokens = 256
        /// Tokens per (random) prompt.
        public var promptLength = 16
        public var temperature: Float = 1
        public var weights: DecodeWeightFormat = .f32
        /// Seed of the model source; the prompts are drawn from seed + 7.
        public var seed: UInt64 = 0
        public init() {}

        public var positions: Int { promptLength + newTokens }
        public func estimatedBytes(_ config: LlamaConfig) -> Int {
            BenchBudget.decodingBytes(config, sequences: prompts * samples, capacity: positions)
        }
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "sample"
        public var threads: Int
        public var model: String
        public var weights: String
        public var prompts: Int
        public var samplesPerPrompt: Int
        public var sequences: Int
        public var promptTokens: Int
        public var newTokens: Int
        public var context: Int
        public var seconds: Double
        public var tokensPerSecond: Double
        public var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case benchmark, threads, model, weights, prompts, samplesPerPrompt = "samples_per_prompt", sequences, promptTokens = "prompt_tokens"
            case newTokens = "new_tokens", context, seconds, tokensPerSecond = "tokens_per_second", peakRSSBytes = "peak_rss_bytes"
        }
    }

    public static func run(model source: LlamaModel, description: String, _ o: Options) throws -> Report {
        var model = source
        if o.positions > model.config.maxSeqLen {
            let copy = try LlamaModel(config: model.config.with(maxSeqLen: o.positions), heads: .lm)
            try copy.load(try model.tensors(), source: description)
            model = copy
        }
        var rng = SeededRNG(seed: o.seed &+ 7)
        let vocabulary = UInt64(model.config.vocabSize)
        let requests = (0..<o.prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<o.promptLength).map { _ in Int32(rng.next() % vocabulary) }, samples: o.samples, seed: UInt64(p))
        }
        let result = try ModelBenchmarks.decode(weights: model.weights, config: model.config, requests: requests,
                                                options: GenerationOptions(maxNewTokens: o.newTokens, sampling: .random(temperature: o.temperature, topK: 0, topP: 1)),
                                                capacity: o.positions, format: o.weights)
        return Report(threads: EngineThreads.cores, model: description, weights: o.weights.rawValue, prompts: o.prompts, samplesPerPrompt: o.samples,
                      sequences: result.sequences, promptTokens: o.promptLength, newTokens: result.newTokens, context: model.config.maxSeqLen,
                      seconds: result.seconds, tokensPerSecond: result.tokensPerSecond, peakRSSBytes: peakRSSBytes() ?? -1)
    }
}
