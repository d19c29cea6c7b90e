// A policy answering prompts: the chat template turns each prompt into tokens, the batched generator
// decodes k samples per prompt together (one matrix-matrix product per step), and the response is
// the decoded new tokens up to end-of-sequence. Sample j of prompt i draws from its own RNG seeded
// by (seed, i), so a response does not depend on which other prompts share its batch.
import PlumbData
import PlumbModel

public final class PolicySampler {
    public let model: LlamaModel
    public let templated: TemplatedTokenizer
    let generator: Generator

    /// `maxSequences` bounds the sequences decoded at once (memory: the KV cache holds that many).
    public init(model: LlamaModel, templated: TemplatedTokenizer, maxSequences: Int = 64) throws {
        self.model = model
        self.templated = templated
        generator = try Generator(config: model.config, weights: model.weights, maxSequences: maxSequences)
    }

    public struct Response: Sendable {
        public var text: String
        public var tokens: [Int32]
        /// The prompt's tokens under the chat template.
        public var promptTokens: [Int32]
        public var finished: Bool
    }

    /// The tokens that end a response: the chat template's end of turn (the tokenizer's EOS) and
    /// every `eos_token_id` of the model's config (Hugging Face's generate stops at any of them).
    public static func stopTokens(_ templated: TemplatedTokenizer, _ config: LlamaConfig) -> Set<Int32> {
        Set([templated.info.eosID] + config.eosTokenIds.compactMap { Int32(exactly: $0) })
    }

    /// `samples` responses to each prompt, in prompt order then sample order.
    public func respond(to prompts: [[Message]], samples: Int = 1, settings: SamplingSettings, seed: UInt64) throws -> [[Response]] {
        let encoded = try prompts.map { try templated.encodePrompt($0) }
        let limit = model.config.maxSeqLen - 1
        let options = GenerationOptions(maxNewTokens: settings.maxNewTokens, sampling: settings.sampling,
                                        stopTokens: Self.stopTokens(templated, model.config))
        let perCall = max(1, generator.maxSequences / max(samples, 1))
        var out: [[Response]] = []
        var start = 0
        while start < encoded.count {
            let end = min(start + perCall, encoded.count)
            let requests = (start..<end).map { i in
                // A prompt longer than the context keeps its last tokens (the most recent turns).
                GenerationRequest(prompt: Array(encoded[i].suffix(limit)), samples: samples, seed: seed &+ UInt64(i) &* 0x9E37_79B9)
            }
            let sequences = try generator.generate(requests, options: options)
            var grouped = [[Response]](repeating: [], count: requests.count)
            for s in sequences {
                let body = s.finish == .stopToken ? Array(s.tokens.dropLast()) : s.tokens
                grouped[s.request].append(Response(text: try templated.tokenizer.decode(body), tokens: s.tokens,
                                                   promptTokens: requests[s.request].prompt, finished: s.finish == .stopToken))
            }
            out += grouped
            start = end
        }
        return out
    }
}
