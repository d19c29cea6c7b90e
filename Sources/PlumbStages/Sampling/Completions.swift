// Completions of one prompt from a checkpoint (`plumb generate`): the prompt as token ids, or as text
// encoded with a SentencePiece tokenizer, BOS first; batched KV-cache decoding of `samples`
// completions that share the prompt's prefill; each completion's ids, how it ended, and with a
// tokenizer its text.
import Foundation
import PlumbData
import PlumbModel

public enum Completions {
    public enum Prompt: Sendable { case ids([Int32]), text(String) }

    public struct Options: Sendable {
        public var samples: Int, maxNewTokens: Int
        public var sampling: Sampling
        public var weights: DecodeWeightFormat
        public var seed: UInt64
        /// Token ids that end a completion (nil: the config's eos_token_id).
        public var stopIds: [Int32]?
        public init(samples: Int, maxNewTokens: Int, sampling: Sampling, weights: DecodeWeightFormat, seed: UInt64) {
            (self.samples, self.maxNewTokens, self.sampling, self.weights, self.seed) = (samples, maxNewTokens, sampling, weights, seed)
        }
    }

    /// One completion as `plumb generate` prints it.
    public struct Line: Codable, Sendable {
        public var sample: Int
        public var tokens: [Int]
        public var finish: String
        public var text: String?
    }

    /// `tokenizerFile` names the tokenizer in errors.
    public static func generate(model: LlamaModel, prompt: Prompt, tokenizer spm: Tokenizer?, tokenizerFile: String = "the tokenizer",
                                _ o: Options) throws -> [Line] {
        if let spm, spm.vocabSize != model.config.vocabSize {
            throw StageError("tokenizer \(tokenizerFile) has \(spm.vocabSize) pieces but the model's vocab_size is \(model.config.vocabSize)")
        }
        let ids: [Int32]
        switch prompt {
        case .ids(let given): ids = given
        case .text(let text):
            guard let spm else { throw StageError("a text prompt needs a tokenizer") }
            ids = [Int32(model.config.bosTokenId)] + (try spm.encode(text))
        }
        let stops = o.stopIds ?? model.config.eosTokenIds.compactMap { Int32(exactly: $0) }
        let generator = try Generator(config: model.config, weights: model.weights, maxSequences: o.samples, format: o.weights)
        let out = try generator.generate([GenerationRequest(prompt: ids, samples: o.samples, seed: o.seed)],
                                         options: GenerationOptions(maxNewTokens: o.maxNewTokens, sampling: o.sampling, stopTokens: Set(stops)))
        return try out.map { s in
            Line(sample: s.sample, tokens: s.tokens.map(Int.init), finish: "\(s.finish)", text: try spm.map { try $0.decode(s.tokens) })
        }
    }
}
