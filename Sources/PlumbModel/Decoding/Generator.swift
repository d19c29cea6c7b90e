// Batched generation: many prompts, k samples each, decoded together with continuous batching.
//
//   1. admit: while the next waiting prompt's k samples fit the free cache slots, its tokens go
//      through IncrementalForward into the first of its slots (one prompt per call) and the
//      last row's logits are kept; the prompt's cache rows are copied to its other k - 1 slots
//      (prefill once per prompt), and each sample draws its first token;
//   2. decode: each step runs one row per unfinished sequence (one matrix-matrix product per weight),
//      samples with that sequence's own RNG, and stops it on a stop token, max new tokens or capacity;
//   3. a finished sequence is handed out and its slot freed, so the next prompt is admitted at once
//      rather than after the batch's longest member.
// A sequence's tokens depend only on its prompt, its seed and sample index, never on the batch.
// With a LoRA adapter the weights are the base's plus the adapter's unmerged share (DecodeAdapter).
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
    /// fp32 or 8-bit weights in the matrix products (DecodeWeights).
    public let format: DecodeWeightFormat
    /// The adapter the next generations decode through, unmerged (nil: the bare base). A and B are
    /// read as they are at each step, so an adapter trained between generations needs no reload.
    public var adapter: LoRAAdapter?
    private var forward: IncrementalForward?

    public init(config: LlamaConfig, weights: LlamaWeights, maxSequences: Int, capacity: Int? = nil, format: DecodeWeightFormat = .f32,
                adapter: LoRAAdapter? = nil) throws {
        let cap = capacity ?? config.maxSeqLen
        guard maxSequences > 0, cap > 0, cap <= config.maxSeqLen else {
            throw ConfigError("Generator: need maxSequences > 0 and 0 < capacity <= max_position_embeddings \(config.maxSeqLen); got \(maxSequences), \(cap)")
        }
        try adapter?.requireFits(config, adapterSource: "the generator's adapter", baseSource: "its base")
        self.config = config; self.weights = weights; self.maxSequences = maxSequences; self.capacity = cap; self.format = format
        self.adapter = adapter
    }

    /// Makes the next generation read the model's current weights: 8-bit copies are remade (fp32
    /// reads the tensors themselves, so it always sees the current values).
    public func reloadWeights() throws { try forward?.reloadWeights() }

    /// Generates every sample of every request, decoded together; results in request order, then
    /// sample order.
    public func generate(_ requests: [GenerationRequest], options: GenerationOptions) throws -> [GeneratedSequence] {
        let total = requests.reduce(0) { $0 + $1.samples }
        guard total <= maxSequences else { throw ConfigError("generate: \(total) sequences exceed maxSequences \(maxSequences)") }
        var out: [GeneratedSequence] = []
        try stream(requests, options: options) { out.append($0) }
        return out.sorted { ($0.request, $0.sample) < ($1.request, $1.sample) }
    }

    /// Continuous batching: at most `maxSequences` sequences decode at once; a finished sequence goes
    /// to `onFinished` (in the order sequences finish) and frees its slot, and the next waiting
    /// request is admitted, in request order, as soon as all its samples find free slots (they
    /// share its prefill). Any number of requests; each needs at most `maxSequences` samples.
    public func stream(_ requests: [GenerationRequest], options: GenerationOptions,
                       onFinished: (GeneratedSequence) throws -> Void) throws {
        try options.sampling.validate()
        for (i, r) in requests.enumerated() {
            guard !r.prompt.isEmpty, r.samples > 0, r.samples <= maxSequences, r.prompt.count < capacity else {
                throw ConfigError("generate: request \(i) needs a non-empty prompt shorter than \(capacity) tokens and 1...\(maxSequences) samples; got \(r.prompt.count) tokens, \(r.samples) samples")
            }
            if let bad = r.prompt.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw ConfigError("generate: request \(i): token \(bad) is outside the vocabulary 0..<\(config.vocabSize)")
            }
        }
        let engine = try incrementalForward()
        try engine.use(adapter: adapter)
        var state = DecodeBatch(slots: maxSequences, vocab: config.vocabSize)
        let logits = Tensor(zeros: [maxSequences, config.vocabSize])
        var next = 0
        while true {
            for slot in state.finishedSlots { try onFinished(state.release(slot: slot)) }
            next = try admit(requests, from: next, state: &state, engine: engine, options: options)
            let active = state.activeSlots
            if active.isEmpty {
                if next == requests.count && state.finishedSlots.isEmpty { return }
                continue
            }
            let rows = try Tensor(storage: logits.storage, offset: 0, shape: [active.count, config.vocabSize])
            try engine.forward(tokens: active.map { state.lastToken[$0] }, slots: active,
                               positions: active.map { Int32(state.length[$0] - 1) }, logitRows: Array(0..<active.count), logits: rows)
            withExtendedLifetime(rows) { state.appendAll(active, logits: rows.pointer, options: options, capacity: capacity) }
        }
    }

    private func incrementalForward() throws -> IncrementalForward {
        if let forward { return forward }
        let cache = try KVCache(config: config, slots: maxSequences, capacity: capacity)
        let made = try IncrementalForward(config: config, weights: weights, cache: cache, maxRows: max(maxSequences, capacity),
                                          format: format)
        forward = made
        return made
    }

    /// Admits waiting requests from `start` on, in order, while all samples of the next one fit the
    /// free slots: their prompts run through the model, one per call, into each request's first
    /// slot; the cache rows are copied to its other slots; every sample draws its first token from
    /// the prompt's logits. Returns the first request not admitted.
    private func admit(_ requests: [GenerationRequest], from start: Int, state: inout DecodeBatch, engine: IncrementalForward,
                       options: GenerationOptions) throws -> Int {
        var free = state.freeSlots[...]
        var next = start
        while next < requests.count, requests[next].samples <= free.count {
            // One prompt per prefill call: a prompt's rows then go through the same products whatever
            // else is waiting (more than 64 rows take the sgemm path, whose rounding depends on the
            // row count), so its samples do not depend on which prompts were admitted with it.
            let group = [(request: next, slots: Array(free.prefix(requests[next].samples)))]
            free = free.dropFirst(requests[next].samples)
            next += 1
            var tokens: [Int32] = [], slots: [Int] = [], positions: [Int32] = [], last: [Int] = []
            for (r, taken) in group {
                let p = requests[r].prompt
                tokens += p; positions += (0..<p.count).map(Int32.init)
                slots += [Int](repeating: taken[0], count: p.count)
                last.append(tokens.count - 1)
            }
            let logits = Tensor(zeros: [last.count, config.vocabSize])
            try engine.forward(tokens: tokens, slots: slots, positions: positions, logitRows: last, logits: logits)
            try withExtendedLifetime(logits) {
                for (j, (r, taken)) in group.enumerated() {
                    let request = requests[r]
                    for (s, slot) in taken.enumerated() {
                        try engine.cache.copyPrefix(from: taken[0], to: slot, length: request.prompt.count)
                        state.admit(slot: slot, request: r, sample: s, seed: request.seed, promptLength: request.prompt.count,
                                    logits: logits.pointer + j * config.vocabSize, options: options, capacity: capacity)
                    }
                }
            }
        }
        return next
    }
}
