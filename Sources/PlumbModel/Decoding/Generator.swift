// Batched generation: many prompts, k samples each, decoded together.
//
//   1. prefill: every prompt's tokens go through IncrementalForward into the first slot of its k,
//      several prompts per call; the last row's logits are kept;
//   2. the prompt's cache rows are copied to its other k - 1 slots (prefill once per prompt);
//   3. decode: each step runs one row per unfinished sequence (one matrix-matrix product per weight),
//      samples with that sequence's own RNG, and stops it on a stop token, max new tokens or capacity.
// A sequence's tokens depend only on its prompt, its seed and sample index, never on the batch.
import PlumbTensor

public struct GenerationRequest: Sendable {
    public var prompt: [Int32]
    /// Completions of this prompt (k); they share the prompt's prefill.
    public var samples: Int
    public var seed: UInt64

    public init(prompt: [Int32], samples: Int = 1, seed: UInt64 = 0) {
        self.prompt = prompt; self.samples = samples; self.seed = seed
    }
}

public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    public var sampling: Sampling
    /// Generation of a sequence ends after it emits one of these (the stop token is kept).
    public var stopTokens: Set<Int32>

    public init(maxNewTokens: Int, sampling: Sampling = .greedy, stopTokens: Set<Int32> = []) {
        self.maxNewTokens = maxNewTokens; self.sampling = sampling; self.stopTokens = stopTokens
    }
}

public enum FinishReason: Equatable, Sendable {
    case stopToken
    case maxNewTokens
    /// The model's context (cache capacity) is full.
    case contextFull
}

public struct GeneratedSequence: Equatable, Sendable {
    public let request: Int
    public let sample: Int
    /// New tokens only (the prompt is not repeated); ends with the stop token when finish is .stopToken.
    public var tokens: [Int32]
    public var finish: FinishReason
}

public final class Generator {
    public let config: LlamaConfig
    public let weights: LlamaWeights
    /// Most sequences decoded at once, and most rows per prefill call.
    public let maxSequences: Int
    /// Positions per sequence (prompt + new tokens); at most the config's max_position_embeddings.
    public let capacity: Int
    private var forward: IncrementalForward?

    public init(config: LlamaConfig, weights: LlamaWeights, maxSequences: Int, capacity: Int? = nil) throws {
        let cap = capacity ?? config.maxSeqLen
        guard maxSequences > 0, cap > 0, cap <= config.maxSeqLen else {
            throw ConfigError("Generator: need maxSequences > 0 and 0 < capacity <= max_position_embeddings \(config.maxSeqLen); got \(maxSequences), \(cap)")
        }
        self.config = config; self.weights = weights; self.maxSequences = maxSequences; self.capacity = cap
    }

    /// Generates every sample of every request; results in request order, then sample order.
    public func generate(_ requests: [GenerationRequest], options: GenerationOptions) throws -> [GeneratedSequence] {
        try options.sampling.validate()
        let total = requests.reduce(0) { $0 + $1.samples }
        guard total <= maxSequences else { throw ConfigError("generate: \(total) sequences exceed maxSequences \(maxSequences)") }
        for (i, r) in requests.enumerated() {
            guard !r.prompt.isEmpty, r.samples > 0, r.prompt.count < capacity else {
                throw ConfigError("generate: request \(i) needs a non-empty prompt shorter than \(capacity) tokens and samples > 0; got \(r.prompt.count) tokens, \(r.samples) samples")
            }
            if let bad = r.prompt.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw ConfigError("generate: request \(i): token \(bad) is outside the vocabulary 0..<\(config.vocabSize)")
            }
        }
        let engine = try incrementalForward()
        var state = try DecodeBatch(requests: requests, vocab: config.vocabSize)
        try prefill(requests, state: &state, engine: engine)
        try state.sampleFirstTokens(options: options, capacity: capacity)
        let logits = Tensor(zeros: [maxSequences, config.vocabSize])
        while true {
            let active = state.activeSlots
            if active.isEmpty { break }
            let rows = try Tensor(storage: logits.storage, offset: 0, shape: [active.count, config.vocabSize])
            try engine.forward(tokens: active.map { state.lastToken[$0] }, slots: active,
                               positions: active.map { Int32(state.length[$0] - 1) }, logitRows: Array(0..<active.count), logits: rows)
            state.appendAll(active, logits: rows.pointer, options: options, capacity: capacity)
        }
        return state.sequences
    }

    private func incrementalForward() throws -> IncrementalForward {
        if let forward { return forward }
        let cache = try KVCache(config: config, slots: maxSequences, capacity: capacity)
        let made = try IncrementalForward(config: config, weights: weights, cache: cache, maxRows: max(maxSequences, capacity))
        forward = made
        return made
    }

    /// Runs the prompts through the model, several per call, and copies each prompt's cache to its samples.
    private func prefill(_ requests: [GenerationRequest], state: inout DecodeBatch, engine: IncrementalForward) throws {
        var start = 0
        while start < requests.count {
            var end = start, rowCount = 0
            while end < requests.count, rowCount + requests[end].prompt.count <= engine.maxRows {
                rowCount += requests[end].prompt.count; end += 1
            }
            var tokens: [Int32] = [], slots: [Int] = [], positions: [Int32] = [], last: [Int] = []
            for r in start..<end {
                let p = requests[r].prompt
                tokens += p; positions += (0..<p.count).map(Int32.init)
                slots += [Int](repeating: state.firstSlot[r], count: p.count)
                last.append(tokens.count - 1)
            }
            let logits = Tensor(zeros: [last.count, config.vocabSize])
            try engine.forward(tokens: tokens, slots: slots, positions: positions, logitRows: last, logits: logits)
            for (j, r) in (start..<end).enumerated() {
                state.promptLogits[r] = Array(UnsafeBufferPointer(start: logits.pointer + j * config.vocabSize, count: config.vocabSize))
                for s in 1..<max(requests[r].samples, 1) {
                    try engine.cache.copyPrefix(from: state.firstSlot[r], to: state.firstSlot[r] + s, length: requests[r].prompt.count)
                }
            }
            start = end
        }
    }
}
