// A policy answering prompts: the chat template turns each prompt into tokens, the batched generator
// decodes k samples per prompt together (one matrix-matrix product per step), and the response is
// the decoded new tokens up to end-of-sequence. Sample j of prompt i draws from its own RNG seeded
// by (seed, i, j), so a response does not depend on which other prompts share its batch. All prompts
// go through one continuous batch (Generator.stream). The settings choose fp32 or 8-bit weights;
// 8-bit copies are remade from the model's current weights on every call, since PPO updates them
// between rollouts. With a LoRA adapter the generator decodes the base plus the adapter, unmerged
// (IncrementalForward reads A and B live, so PPO's updates need no reload).
import PlumbData
import PlumbModel
import PlumbTensor

public final class PolicySampler {
    public let model: LlamaModel
    /// The policy's adapter on `model` (nil: the model alone).
    public let adapter: LoRAAdapter?
    public let templated: TemplatedTokenizer
    let maxSequences: Int
    private var generators: [DecodeWeightFormat: Generator] = [:]

    /// `maxSequences` bounds the sequences decoded at once (memory: the KV cache holds that many).
    public init(model: LlamaModel, templated: TemplatedTokenizer, maxSequences: Int = 64, adapter: LoRAAdapter? = nil) throws {
        self.model = model
        self.adapter = adapter
        self.templated = templated
        self.maxSequences = maxSequences
        generators[.f32] = try Generator(config: model.config, weights: model.weights, maxSequences: maxSequences, adapter: adapter)
    }

    /// The generator reading the weights in `format`, holding the model's current values.
    func generator(_ format: DecodeWeightFormat) throws -> Generator {
        if let made = generators[format] { try made.reloadWeights(); return made }
        let made = try Generator(config: model.config, weights: model.weights, maxSequences: maxSequences, format: format, adapter: adapter)
        generators[format] = made
        return made
    }

    public struct Response: Sendable {
        public var text: String
        public var tokens: [Int32]
        /// The prompt's tokens under the chat template.
        public var promptTokens: [Int32]
        public var finished: Bool
        public var finish: FinishReason
    }

    /// The tokens that end a response: the chat template's end of turn (the tokenizer's EOS) and
    /// every `eos_token_id` of the model's config (Hugging Face's generate stops at any of them).
    public static func stopTokens(_ templated: TemplatedTokenizer, _ config: LlamaConfig) -> Set<Int32> {
        Set([templated.info.eosID] + config.eosTokenIds.compactMap { Int32(exactly: $0) })
    }

    /// `samples` responses to each prompt, in prompt order then sample order; prompt i's samples
    /// draw from seed (seed, i).
    public func respond(to prompts: [[Message]], samples: Int = 1, settings: SamplingSettings, seed: UInt64) throws -> [[Response]] {
        try respond(to: prompts, samples: samples, settings: settings, seeds: prompts.indices.map { Self.seed(seed, prompt: $0) })
    }

    /// `samples` responses to each prompt, prompt i's samples drawing from `seeds[i]`.
    public func respond(to prompts: [[Message]], samples: Int = 1, settings: SamplingSettings, seeds: [UInt64]) throws -> [[Response]] {
        precondition(seeds.count == prompts.count, "PolicySampler.respond: one seed per prompt")
        let encoded = try prompts.map { try templated.encodePrompt($0) }
        let limit = model.config.maxSeqLen - 1
        let options = GenerationOptions(maxNewTokens: settings.maxNewTokens, sampling: settings.sampling,
                                        stopTokens: Self.stopTokens(templated, model.config))
        let requests = encoded.indices.map { i in
            // A prompt longer than the context keeps its last tokens (the most recent turns).
            GenerationRequest(prompt: Array(encoded[i].suffix(limit)), samples: samples, seed: seeds[i])
        }
        var out = [[Response?]](repeating: [Response?](repeating: nil, count: samples), count: requests.count)
        try generator(settings.weights).stream(requests, options: options) { s in
            out[s.request][s.sample] = try response(s, prompt: requests[s.request].prompt)
        }
        return out.map { $0.map { $0! } }
    }

    /// The seed of prompt `prompt`'s samples under run seed `seed`.
    public static func seed(_ seed: UInt64, prompt: Int) -> UInt64 { seed &+ UInt64(prompt) &* 0x9E37_79B9 }

    /// The seed of the samples of the prompt with id `promptID` under run seed `seed`: the same
    /// wherever the prompt sits in a prompt set.
    public static func seed(_ seed: UInt64, promptID: String) -> UInt64 {
        var rng = SeededRNG(seed: seed ^ FNV1a64.hash(promptID))
        return rng.next()
    }

    /// A finished sequence as a response: its text without the end-of-sequence token.
    public func response(_ s: GeneratedSequence, prompt: [Int32]) throws -> Response {
        let body = s.finish == .stopToken ? Array(s.tokens.dropLast()) : s.tokens
        return Response(text: try templated.tokenizer.decode(body), tokens: s.tokens, promptTokens: prompt,
                        finished: s.finish == .stopToken, finish: s.finish)
    }
}
