// `plumb bench rs`: the two halves of rejection sampling on one model shape, side by side in one run.
//   sampling: P prompts x k samples whose lengths vary (a share of the vocabulary stops a sequence),
//     decoded (a) with continuous batching, per slot (Generator.stream: a finished sequence's slot
//     goes to the next waiting sample), (b) with continuous batching, whole requests (a prompt waits
//     until all k samples find free slots) and (c) in batches of slots/k prompts that each wait for
//     their longest member; the three alternate, each repeat starting one later, and must make the
//     same number of tokens; the anchor is `bench sample`'s computation on the same slots (every
//     sequence to the full length, no stops) measured in the same run;
//   scoring: every sample through a reward-model forward pass (RewardScorer: one sequence at a
//     time, side by side on the cores), tokens per second.
import Foundation
import PlumbFiles
import PlumbModel
import PlumbTensor

public enum RSBench {
    public struct Options: Sendable {
        public var prompts = 64
        /// Samples per prompt (k).
        public var samples = 8
        /// Sequences decoded at once.
        public var slots = 64
        public var newTokens = 256
        public var promptLength = 16
        /// Share of the vocabulary that stops a sequence (lengths vary; mean about 1 / share).
        public var stopShare = 1.0 / 64
        /// Alternating repeats of each sampling variant.
        public var repeats = 2
        /// Seed of the model source (prompts from seed + 7, the reward model seed + 11).
        public var seed: UInt64 = 0
        public init() {}
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "rs"
        public var model: String
        public var prompts: Int, samplesPerPrompt: Int, slots: Int, maxNewTokens: Int
        public var stopShare: Double
        public var newTokens: Int
        public var meanNewTokens: Double
        public var continuousSeconds: [Double], wholeRequestSeconds: [Double], waitingSeconds: [Double]
        public var continuousDecodeSteps: Int, wholeRequestDecodeSteps: Int, waitingDecodeSteps: Int
        public var continuousTokensPerSecond: Double, wholeRequestTokensPerSecond: Double, waitingTokensPerSecond: Double
        public var continuousOverWaiting: Double, wholeRequestOverWaiting: Double, continuousOverWholeRequest: Double
        public var anchorSampleTokensPerSecond: [Double]
        public var continuousOverAnchor: Double
        public var scoringTokens: Int, scoringSeconds: Double, scoringTokensPerSecond: Double
        public var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case benchmark, model, prompts, samplesPerPrompt = "samples_per_prompt", slots, maxNewTokens = "max_new_tokens", stopShare = "stop_share"
            case newTokens = "new_tokens", meanNewTokens = "mean_new_tokens", continuousSeconds = "continuous_seconds"
            case wholeRequestSeconds = "whole_request_seconds", waitingSeconds = "waiting_seconds", continuousDecodeSteps = "continuous_decode_steps"
            case wholeRequestDecodeSteps = "whole_request_decode_steps", waitingDecodeSteps = "waiting_decode_steps"
            case continuousTokensPerSecond = "continuous_tokens_per_second", wholeRequestTokensPerSecond = "whole_request_tokens_per_second"
            case waitingTokensPerSecond = "waiting_tokens_per_second", continuousOverWaiting = "continuous_over_waiting"
            case wholeRequestOverWaiting = "whole_request_over_waiting", continuousOverWholeRequest = "continuous_over_whole_request"
            case anchorSampleTokensPerSecond = "anchor_sample_tokens_per_second", continuousOverAnchor = "continuous_over_anchor"
            case scoringTokens = "scoring_tokens", scoringSeconds = "scoring_seconds", scoringTokensPerSecond = "scoring_tokens_per_second"
            case peakRSSBytes = "peak_rss_bytes"
        }
    }

    /// How the sampling half is scheduled.
    enum Schedule: CaseIterable { case perSlot, wholeRequest, waiting }

    /// What the sampling half measured: each schedule's seconds per repeat and decoding steps, the
    /// anchor's rates, the per-slot schedule's sequences and the tokens every schedule made.
    struct SamplingHalf {
        var seconds: [Schedule: [Double]] = [:], steps: [Schedule: Int] = [:], anchor: [Double] = []
        var sequences: [GeneratedSequence] = []
        var newTokens = 0
    }

    public static func run(model base: LlamaModel, description: String, _ o: Options) throws -> Report {
        let capacity = o.promptLength + o.newTokens
        let config = base.config.with(maxSeqLen: max(base.config.maxSeqLen, capacity + 1))
        let model = try LlamaModel(config: config, heads: .lm)
        try model.load(try base.tensors(), source: description)
        var rng = SeededRNG(seed: o.seed &+ 7)
        let requests = (0..<o.prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<o.promptLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }, samples: o.samples, seed: UInt64(p))
        }
        let options = GenerationOptions(maxNewTokens: o.newTokens, sampling: .random(temperature: 1, topK: 0, topP: 1),
                                        stopTokens: BenchRollouts.stopTokens(config, share: o.stopShare))
        let generator = try Generator(config: config, weights: model.weights, maxSequences: o.slots, capacity: capacity)
        _ = try generator.generate(Array(requests.prefix(o.slots / o.samples)), options: GenerationOptions(maxNewTokens: 4, sampling: options.sampling))
        let s = try sample(requests, generator: generator, options: options, o)

        // Scoring: every sample with its prompt through a reward model of the same shape.
        let rewardModel = try LlamaModel(config: config, heads: .reward, seed: o.seed &+ 11)
        let scorer = try RewardScorer(model: rewardModel, seqLen: capacity + 1, padToken: 0)
        let texts = s.sequences.map { requests[$0.request].prompt + $0.tokens }
        let start = monotonicSeconds()
        _ = try scorer.scores(texts)
        let scoringSeconds = monotonicSeconds() - start
        let scoredTokens = texts.reduce(0) { $0 + $1.count }

        let best = { (schedule: Schedule) in s.seconds[schedule]!.min()! }
        let rate = { (schedule: Schedule) in Double(s.newTokens) / best(schedule) }
        return Report(model: description, prompts: o.prompts, samplesPerPrompt: o.samples, slots: o.slots, maxNewTokens: o.newTokens,
                      stopShare: o.stopShare, newTokens: s.newTokens, meanNewTokens: Double(s.newTokens) / Double(o.prompts * o.samples),
                      continuousSeconds: s.seconds[.perSlot]!, wholeRequestSeconds: s.seconds[.wholeRequest]!, waitingSeconds: s.seconds[.waiting]!,
                      continuousDecodeSteps: s.steps[.perSlot]!, wholeRequestDecodeSteps: s.steps[.wholeRequest]!, waitingDecodeSteps: s.steps[.waiting]!,
                      continuousTokensPerSecond: rate(.perSlot), wholeRequestTokensPerSecond: rate(.wholeRequest), waitingTokensPerSecond: rate(.waiting),
                      continuousOverWaiting: best(.waiting) / best(.perSlot), wholeRequestOverWaiting: best(.waiting) / best(.wholeRequest),
                      continuousOverWholeRequest: best(.wholeRequest) / best(.perSlot),
                      anchorSampleTokensPerSecond: s.anchor, continuousOverAnchor: rate(.perSlot) / s.anchor.max()!,
                      scoringTokens: scoredTokens, scoringSeconds: scoringSeconds, scoringTokensPerSecond: Double(scoredTokens) / scoringSeconds,
                      peakRSSBytes: peakRSSBytes() ?? -1)
    }

    /// The three schedules alternating `repeats` times, each repeat starting one later, then the anchor.
    static func sample(_ requests: [GenerationRequest], generator: Generator, options: GenerationOptions, _ o: Options) throws -> SamplingHalf {
        var s = SamplingHalf()
        for repeatIndex in 0..<o.repeats {
            for k in 0..<Schedule.allCases.count {
                let schedule = Schedule.allCases[(repeatIndex + k) % Schedule.allCases.count]
                let start = monotonicSeconds()
                let (made, decodeSteps) = try decode(requests, schedule, generator: generator, options: options, slots: o.slots, samples: o.samples)
                s.seconds[schedule, default: []].append(monotonicSeconds() - start)
                s.steps[schedule] = decodeSteps
                if schedule == .perSlot { s.sequences = made }
                let count = made.reduce(0) { $0 + $1.tokens.count }
                if s.newTokens == 0 { s.newTokens = count }
                guard count == s.newTokens else { throw BenchmarkError("bench rs: the schedules made \(s.newTokens) and \(count) tokens") }
            }
            // The anchor: `bench sample` on the same slots, every sequence to the full length.
            generator.admission = .wholeRequest
            let start = monotonicSeconds()
            let made = try generator.generate(Array(requests.prefix(o.slots / o.samples)),
                                              options: GenerationOptions(maxNewTokens: o.newTokens, sampling: options.sampling))
            s.anchor.append(Double(made.reduce(0) { $0 + $1.tokens.count }) / (monotonicSeconds() - start))
        }
        return s
    }

    /// Every sample of `requests` under `schedule`; the sequences and the decoding steps run.
    static func decode(_ requests: [GenerationRequest], _ schedule: Schedule, generator: Generator, options: GenerationOptions,
                       slots: Int, samples: Int) throws -> ([GeneratedSequence], Int) {
        var made: [GeneratedSequence] = []
        switch schedule {
        case .perSlot, .wholeRequest:
            generator.admission = schedule == .perSlot ? .perSlot : .wholeRequest
            try generator.stream(requests, options: options) { made.append($0) }
            return (made, generator.stats.decodeSteps)
        case .waiting:
            generator.admission = .wholeRequest
            var steps = 0
            for first in stride(from: 0, to: requests.count, by: slots / samples) {
                made += try generator.generate(Array(requests[first..<min(first + slots / samples, requests.count)]), options: options)
                steps += generator.stats.decodeSteps
            }
            return (made, steps)
        }
    }
}
