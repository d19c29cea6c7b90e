// One sequence decoded token by token, handing each new token to the caller as it is made (for
// `plumb chat`). Uses the same incremental forward and KV cache as batched generation.
import PlumbModel
import PlumbTensor

public final class StreamingDecoder {
    public let model: LlamaModel
    let engine: IncrementalForward
    let logits: Tensor   // (1, V)
    var sampler: TokenSampler

    public init(model: LlamaModel, format: DecodeWeightFormat = .f32) throws {
        self.model = model
        let cache = try KVCache(config: model.config, slots: 1, capacity: model.config.maxSeqLen)
        engine = try IncrementalForward(config: model.config, weights: model.weights, cache: cache, maxRows: model.config.maxSeqLen, format: format)
        logits = Tensor(zeros: [1, model.config.vocabSize])
        sampler = TokenSampler(vocabSize: model.config.vocabSize)
    }

    /// Decodes after `prompt` until one of `stops`, `maxNewTokens` or the context is full; `onToken`
    /// sees each new token (the stop token too). Returns the new tokens.
    @discardableResult
    public func decode(prompt: [Int32], settings: SamplingSettings, stops: Set<Int32>, rng: inout SeededRNG,
                       onToken: (Int32) throws -> Void) throws -> [Int32] {
        let capacity = model.config.maxSeqLen
        let context = Array(prompt.suffix(capacity - 1))
        guard !context.isEmpty else { throw StageError("decode: empty prompt") }
        try engine.forward(tokens: context, slots: [Int](repeating: 0, count: context.count),
                           positions: (0..<context.count).map(Int32.init), logitRows: [context.count - 1], logits: logits)
        var produced: [Int32] = []
        var length = context.count
        while produced.count < settings.maxNewTokens {
            let next = sampler.sample(logits.pointer, vocab: model.config.vocabSize, settings.sampling, rng: &rng)
            produced.append(next)
            try onToken(next)
            if stops.contains(next) || length >= capacity { break }
            try engine.forward(tokens: [next], slots: [0], positions: [Int32(length)], logitRows: [0], logits: logits)
            length += 1
        }
        return produced
    }
}
