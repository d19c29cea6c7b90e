// `plumb bench rs`: the two halves of rejection sampling on one model shape, side by side in one run.
//   sampling: P prompts x k samples whose lengths vary (a share of the vocabulary stops a sequence),
//     decoded (a) with continuous batching, per slot (Generator.stream: a finished sequence's slot
//     goes to the next waiting sample), (b) with continuous batching, whole requests (a prompt waits
//     until all k samples find free slots) and (c) in batches of slots/k prompts that each wait for
//     their longest member; the three alternate, each repeat starting one later, and the anchor is
//     `bench sample`'s computation on the same slots (every sequence to the full length, no stops)
//     measured in the same run;
//   scoring: every sample through a reward-model forward pass (RewardScorer: one sequence at a
//     time, side by side on the cores), tokens per second.
import ArgumentParser
import Foundation
import PlumbModel
import PlumbStages
import PlumbTensor

struct BenchRSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs",
        abstract: "Rejection-sampling throughput: continuous batching against waiting for the longest member, and reward scoring.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Prompts.") var prompts = 64
    @Option(help: "Samples per prompt (k).") var samples = 8
    @Option(help: "Sequences decoded at once.") var slots = 64
    @Option(help: "Most new tokens per sample.") var newTokens = 256
    @Option(help: "Tokens per (random) prompt.") var promptLength = 16
    @Option(help: "Share of the vocabulary that stops a sequence (lengths vary; mean about 1 / share).") var stopShare = 1.0 / 64
    @Option(help: "Alternating repeats of each sampling variant.") var repeats = 2

    func validate() throws {
        guard prompts > 0, samples > 0, slots >= samples, newTokens > 0, promptLength > 0, repeats > 0, stopShare > 0, stopShare < 1 else {
            throw ValidationError("positive sizes, --slots >= --samples, 0 < --stop-share < 1")
        }
    }

    func run() throws {
        let base = try source.load()
        let capacity = promptLength + newTokens
        let config = base.config.with(maxSeqLen: max(base.config.maxSeqLen, capacity + 1))
        let model = try LlamaModel(config: config, heads: .lm)
        try model.load(try base.tensors(), source: source.description)
        var rng = SeededRNG(seed: source.seed &+ 7)
        let requests = (0..<prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<promptLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }, samples: samples, seed: UInt64(p))
        }
        let stops = Set((0..<max(1, Int(Double(config.vocabSize) * stopShare))).map { Int32(config.vocabSize - 1 - $0) })
        let options = GenerationOptions(maxNewTokens: newTokens, sampling: .random(temperature: 1, topK: 0, topP: 1), stopTokens: stops)
        let generator = try Generator(config: config, weights: model.weights, maxSequences: slots, capacity: capacity)
        _ = try generator.generate(Array(requests.prefix(slots / samples)), options: GenerationOptions(maxNewTokens: 4, sampling: options.sampling))

        var seconds: [Schedule: [Double]] = [:], steps: [Schedule: Int] = [:], anchor: [Double] = []
        var sequences: [GeneratedSequence] = []
        var newTokenCount = 0
        for repeatIndex in 0..<repeats {
            for k in 0..<Schedule.allCases.count {
                let schedule = Schedule.allCases[(repeatIndex + k) % Schedule.allCases.count]
                let start = monotonicSeconds()
                let (made, decodeSteps) = try decode(requests, schedule, generator: generator, options: options)
                seconds[schedule, default: []].append(monotonicSeconds() - start)
                steps[schedule] = decodeSteps
                if schedule == .perSlot { sequences = made }
                let count = made.reduce(0) { $0 + $1.tokens.count }
                if newTokenCount == 0 { newTokenCount = count }
                guard count == newTokenCount else { throw CLIError("bench rs: the schedules made \(newTokenCount) and \(count) tokens") }
            }

            // The anchor: `bench sample` on the same slots, every sequence to the full length.
            let full = GenerationOptions(maxNewTokens: newTokens, sampling: options.sampling)
            generator.admission = .wholeRequest
            let start = monotonicSeconds()
            let made = try generator.generate(Array(requests.prefix(slots / samples)), options: full).reduce(0) { $0 + $1.tokens.count }
            anchor.append(Double(made) / (monotonicSeconds() - start))
        }

        // Scoring: every sample with its prompt through a reward model of the same shape.
        let rewardModel = try LlamaModel(config: config, heads: .reward, seed: source.seed &+ 11)
        let scorer = try RewardScorer(model: rewardModel, seqLen: capacity + 1, padToken: 0)
        let texts = sequences.map { requests[$0.request].prompt + $0.tokens }
        let start = monotonicSeconds()
        _ = try scorer.scores(texts)
        let scoringSeconds = monotonicSeconds() - start
        let scoredTokens = texts.reduce(0) { $0 + $1.count }

        let best = { (schedule: Schedule) in seconds[schedule]!.min()! }
        let continuousRate = Double(newTokenCount) / best(.perSlot)
        try printJSON([
            "benchmark": "rs", "model": source.description, "prompts": prompts, "samples_per_prompt": samples, "slots": slots,
            "max_new_tokens": newTokens, "stop_share": stopShare, "new_tokens": newTokenCount,
            "mean_new_tokens": Double(newTokenCount) / Double(prompts * samples),
            "continuous_seconds": seconds[.perSlot]!, "whole_request_seconds": seconds[.wholeRequest]!, "waiting_seconds": seconds[.waiting]!,
            "continuous_decode_steps": steps[.perSlot]!, "whole_request_decode_steps": steps[.wholeRequest]!, "waiting_decode_steps": steps[.waiting]!,
            "continuous_tokens_per_second": continuousRate, "whole_request_tokens_per_second": Double(newTokenCount) / best(.wholeRequest),
            "waiting_tokens_per_second": Double(newTokenCount) / best(.waiting),
            "continuous_over_waiting": best(.waiting) / best(.perSlot), "whole_request_over_waiting": best(.waiting) / best(.wholeRequest),
            "continuous_over_whole_request": best(.wholeRequest) / best(.perSlot),
            "anchor_sample_tokens_per_second": anchor, "continuous_over_anchor": continuousRate / anchor.max()!,
            "scoring_tokens": scoredTokens, "scoring_seconds": scoringSeconds, "scoring_tokens_per_second": Double(scoredTokens) / scoringSeconds,
            "peak_rss_bytes": peakRSSBytes() ?? -1,
        ])
    }

    /// How the sampling half is scheduled.
    enum Schedule: CaseIterable { case perSlot, wholeRequest, waiting }

    /// Every sample of `requests` under `schedule`; the sequences and the decoding steps run.
    private func decode(_ requests: [GenerationRequest], _ schedule: Schedule, generator: Generator,
                        options: GenerationOptions) throws -> ([GeneratedSequence], Int) {
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
