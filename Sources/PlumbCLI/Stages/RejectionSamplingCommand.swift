// `plumb rs`: rejection sampling over a prompt set with both reward models (RejectionSamplingStage).
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

struct RejectionSamplingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs",
        abstract: "Rejection sampling: k samples per prompt, ranked by the safety-gated combined reward; writes samples, the best per prompt (demonstrations-train, for plumb sft) and best-vs-worst pairs (comparisons-train).")
    @Option(help: "SentencePiece model (.model) of the policy and both reward models.") var tokenizer: String
    @Option(help: "Policy stage (SFT or an earlier RS policy) to sample from.") var policy: String
    @Option(help: "Helpfulness reward-model stage.") var helpfulness: String
    @Option(help: "Safety reward-model stage.") var safety: String
    @Option(help: "Import stage whose prompts-* sets are the prompts (repeatable).") var prompts: [String]
    @Option(help: "Samples per prompt.") var k = 10
    @Option(help: "Sampling temperature (TigerBot: 0.6).") var temperature: Float = 0.6
    @Option(help: "Keep the k most probable tokens (0: all).") var topK = 0
    @Option(help: "Nucleus mass within the top-k (1: all).") var topP: Float = 1
    @Option(help: "Most new tokens per sample.") var maxNewTokens = 64
    @Option(help: "Seed of the samples (with each prompt's id and the sample index).") var seed: UInt64 = 1
    @Option(help: "Gate threshold on sigmoid(safety score) (Llama 2: 0.15).") var gateThreshold = CombinedReward.llama2Threshold
    @Option(help: "Calibrate the gate threshold for this recall of unsafe responses on --gate-data's validation comparisons.") var gateRecall: Double?
    @Option(help: "Import stage with safety-labelled validation comparisons for --gate-recall (repeatable).") var gateData: [String] = []
    @Option(help: "Earlier RS stage whose best samples are pooled with this round's (repeatable).") var previous: [String] = []
    @Option(help: "Round number recorded on the best samples.") var round = 1
    @Option(help: "Use at most this many prompts.") var limit: Int?
    @Option(help: "Prompts per output shard (the unit of resume).") var promptsPerShard = 128
    @Option(help: "Sequences decoded at once.") var maxSequences = 64
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "Share of the prompts sent to human ranking (human-rank-tasks.json; TigerBot: 0.05), routed by the seed and prompt id.") var humanRankShare = 0.0
    @Option(help: "Share of the prompts sent to human editing (human-edit-tasks.json; TigerBot: 0.05).") var humanEditShare = 0.0
    @Option(help: "Score with a conservative rule over the helpfulness and safety ensembles (rm train --ensemble): mean, mean-minus-std:LAMBDA, worst or uncertainty-weighted:LAMBDA.")
    var conservative: String?
    @OptionGroup var decode: DecodeWeightsOption
    @OptionGroup var output: StageOutputOptions
    @OptionGroup var parallel: DistributedOptions

    func validate() throws {
        if let conservative { _ = try parseConservative(conservative) }
    }

    func run() throws {
        var p = RejectionSamplingStage.Parameters()
        p.conservative = try conservative.map(parseConservative)
        p.k = k
        p.sampling = SamplingSettings(temperature: temperature, topK: topK, topP: topP, maxNewTokens: maxNewTokens, weights: decode.weights)
        p.seed = seed
        p.gateThreshold = gateThreshold
        p.gateRecall = gateRecall
        p.round = round
        p.limit = limit
        p.promptsPerShard = promptsPerShard
        p.maxSequences = maxSequences
        p.template = template
        p.humanRankShare = humanRankShare
        p.humanEditShare = humanEditShare
        let inputs = StageInputs(["tokenizer": [fileURL(tokenizer)], "policy": [fileURL(policy)], "helpfulness": [fileURL(helpfulness)],
                                  "safety": [fileURL(safety)], "prompts": prompts.map(fileURL), "gate-data": gateData.map(fileURL),
                                  "previous": previous.map(fileURL)])
        let summary = try StageRun.run(RejectionSamplingStage.self, p, inputs: inputs, location: output.location)
        print(String(format: "rs: %d prompts, %d samples (%.0f tok/s sampling), %d best (%d from earlier rounds), %d pairs, gate fired on %d -> %@",
                     summary.prompts, summary.samples, Double(summary.sampledTokens) / max(summary.samplingSeconds, 1e-9),
                     summary.best, summary.bestFromEarlierRounds, summary.pairs, summary.gateFired, output.out))
    }
}

/// `plumb rs-merge`: an rs stage with its human tasks' completed Label Studio exports folded in.
struct RejectionSamplingMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs-merge",
        abstract: "Fold completed human rankings and edits (Label Studio exports of an rs stage's human-*-tasks.json) into its best samples and pairs.")
    @Option(help: "The rs stage that wrote the human task files.") var rs: String
    @Option(help: "Completed Label Studio export of human-rank-tasks.json.") var rankings: String?
    @Option(help: "Completed Label Studio export of human-edit-tasks.json.") var edits: String?
    @OptionGroup var output: StageOutputOptions

    func run() throws {
        let inputs = StageInputs(["rs": [fileURL(rs)], "rankings": rankings.map { [fileURL($0)] } ?? [], "edits": edits.map { [fileURL($0)] } ?? []])
        let s = try StageRun.run(HumanFeedbackStage.self, NoParameters(), inputs: inputs, location: output.location)
        print("rs-merge: \(s.prompts) prompts: \(s.rewardModel) reward model, \(s.humanRank) human rank (\(s.rankChangedBest) changed the best), "
              + "\(s.humanEdit) human edit; \(s.skipped) of \(s.rankTasks + s.editTasks) tasks skipped -> \(output.out)")
    }
}
