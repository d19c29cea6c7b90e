// Batched generation: many prompts, k samples each, decoded together with continuous batching.
//
//   1. admit (SlotAdmission.swift): each free cache slot goes to the next waiting sample. A prompt's
//      tokens go through IncrementalForward once, into the first slot it gets (one prompt per call),
//      and the last row's logits are kept; each further sample of that prompt gets the prompt's
//      cache rows copied into its slot, now or when a slot frees later, and draws its first token
//      from the kept logits. With `.wholeRequest` a prompt waits until all k samples find free slots;
//   2. decode: each step runs one row per unfinished sequence (one matrix-matrix product per weight),
//      samples with that sequence's own RNG, and stops it on a stop token, max new tokens or capacity;
//   3. a finished sequence is handed out and its slot freed, so the next sample is admitted at once
//      rather than after the batch's longest member.
// A sequence's tokens depend only on its prompt, its seed and sample index, never on the batch.
// With a LoRA adapter the weights are the base's plus the adapter's unmerged share (DecodeAdapter).
import Foundation
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

/// When a waiting prompt's samples take free slots.
public enum GenerationAdmission: Sendable {
    /// Every free slot takes the next waiting sample; a prompt's k samples may start at different steps.
    case perSlot
    /// A prompt is admitted only when all k of its samples find free slots (they start together).
    case wholeRequest
}

/// Where the last `stream` call's time went.
public struct GenerationStats: Equatable, Sendable {
    /// Prompts prefilled (each once), the model calls that prefilled them (several short prompts share
    /// a call) and their seconds, cache copies included.
    public var prefilledPrompts = 0, prefillCalls = 0, prefillSeconds = 0.0
    /// Decoding steps, the rows they ran (one per unfinished sequence per step) and their seconds,
    /// sampling included.
    public var decodeSteps = 0, decodedRows = 0, decodeSeconds = 0.0
    public init() {}
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
    /// When waiting samples take freed slots (the tokens are the same either way).
    public var admission: GenerationAdmission = .perSlot
    /// The last `stream` (or `generate`) call's time split.
    public private(set) var stats = GenerationStats()
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
    /// to `onFinished` (in the order sequences finish) and frees its slot, and the next waiting sample
    /// takes it (`admission`; samples of one prompt share its prefill). Any number of requests and
    /// samples per request (`.wholeRequest`: at most `maxSequences` samples per request).
    public func stream(_ requests: [GenerationRequest], options: GenerationOptions,
                       onFinished: (GeneratedSequence) throws -> Void) throws {
        try options.sampling.validate()
        for (i, r) in requests.enumerated() {
            let mostSamples = admission == .wholeRequest ? maxSequences : Int.max
            guard !r.prompt.isEmpty, r.samples > 0, r.samples <= mostSamples, r.prompt.count < capacity else {
                throw ConfigError("generate: request \(i) needs a non-empty prompt shorter than \(capacity) tokens and 1...\(mostSamples) samples; got \(r.prompt.count) tokens, \(r.samples) samples")
            }
            if let bad = r.prompt.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw ConfigError("generate: request \(i): token \(bad) is outside the vocabulary 0..<\(config.vocabSize)")
            }
        }
        let engine = try incrementalForward()
        try engine.use(adapter: adapter)
        var state = DecodeBatch(slots: maxSequences, vocab: config.vocabSize)
        let queue = AdmissionQueue(requests: requests)
        let logits = Tensor(zeros: [maxSequences, config.vocabSize])
        stats = GenerationStats()
        while true {
            for slot in state.finishedSlots { try onFinished(state.release(slot: slot)) }
            var clock = Self.now()
            let (prompts, calls) = try admit(queue, state: &state, engine: engine, options: options)
            if calls > 0 { stats.prefilledPrompts += prompts; stats.prefillCalls += calls; stats.prefillSeconds += Self.now() - clock }
            let active = state.activeSlots
            if active.isEmpty {
                if queue.isEmpty && state.finishedSlots.isEmpty { return }
                continue
            }
            clock = Self.now()
            let rows = try Tensor(storage: logits.storage, offset: 0, shape: [active.count, config.vocabSize])
            try engine.forward(tokens: active.map { state.lastToken[$0] }, slots: active,
                               positions: active.map { Int32(state.length[$0] - 1) }, logitRows: Array(0..<active.count), logits: rows)
            withExtendedLifetime(rows) { state.appendAll(active, logits: rows.pointer, options: options, capacity: capacity) }
            stats.decodeSteps += 1; stats.decodedRows += active.count; stats.decodeSeconds += Self.now() - clock
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private func incrementalForward() throws -> IncrementalForward {
        if let forward { return forward }
        let cache = try KVCache(config: config, slots: maxSequences, capacity: capacity)
        let made = try IncrementalForward(config: config, weights: weights, cache: cache, maxRows: max(maxSequences, capacity),
                                          format: format)
        forward = made
        return made
    }
}
