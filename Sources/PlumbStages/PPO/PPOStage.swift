// `plumb ppo`: KL-penalised PPO (InstructGPT, Llama 2 section 3.2.3; ../shared/docs/METHODS.md
// sections 4 and 7) with the safety-gated, logit-transformed, whitened combined reward. Per iteration
// (PPORollouts, PPOUpdate): rollouts from the current policy, both reward models, the frozen
// reference's log-probabilities, the critic's values, GAE; then `ppoEpochs` passes over the rollouts
// in `miniBatches` seeded mini-batches, one optimiser step each for the policy and the critic (their
// own learning rates: two Trainer groups).
//
// Models: the policy (initial stage), the reference (default: the initial policy), the critic (a
// value head on a trunk, initialised from the helpfulness reward model with its head as the value
// head, as the N+ implementation details recommend), both reward models.
//
// Checkpoints at iteration boundaries hold the policy, the critic, both optimisers, the KL
// coefficient and the running whitening sums; the prompts and sampling seeds of an iteration are
// functions of (seed, iteration), so a rerun resumes at the newest checkpoint and ends bit-identical.
// Guards: a non-finite loss or gradient skips the step (counted, `maxConsecutiveNonFinite` in a row
// stop the stage); a mean KL past `maxKL` stops the stage; no checkpoint holds a non-finite weight.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

public enum PPOStage {
    public struct Inputs: Sendable {
        public var tokenizer: URL
        public var policy: URL
        /// nil: the initial policy.
        public var reference: URL?
        /// The critic's starting trunk and head; nil: the helpfulness model.
        public var valueInit: URL?
        public var helpfulness: URL
        public var safety: URL
        /// Import stages whose `prompts-*` sets are the prompts.
        public var prompts: [URL]
        /// A rejection-sampling stage whose combined-reward.json gives the gate's threshold and the
        /// fixed whitening statistics.
        public var rewardStatistics: URL?
        public init(tokenizer: URL, policy: URL, reference: URL? = nil, valueInit: URL? = nil, helpfulness: URL, safety: URL,
                    prompts: [URL], rewardStatistics: URL? = nil) {
            self.tokenizer = tokenizer; self.policy = policy; self.reference = reference; self.valueInit = valueInit
            self.helpfulness = helpfulness; self.safety = safety; self.prompts = prompts; self.rewardStatistics = rewardStatistics
        }
    }

    /// The oracle's (or any judge's) figures of the policy at an iteration; PlumbStages never sees the judge itself.
    public typealias PolicyJudge = (_ iteration: Int, _ policy: LlamaModel) throws -> [String: Double]

    public struct Summary: Sendable {
        public var iterations: Int
        public var resumedAtIteration: Int
        public var nonFiniteSteps: Int
        public var last: [String: Double]
        public var judged: [Int: [String: Double]]
    }

    struct ResolvedConfig: Encodable {
        var settings: PPOSettings
        var policy: String, reference: String, valueInit: String, helpfulness: String, safety: String
    }

    public static func run(_ settings: PPOSettings, inputs: Inputs, location: StageLocation, judgeEvery: Int = 0, judge: PolicyJudge? = nil,
                           progress: @escaping ProgressHandler = { _ in }, log: @escaping (String) -> Void = { _ in }) throws -> Summary {
        try settings.validate()
        let reference = inputs.reference ?? inputs.policy
        let valueInit = inputs.valueInit ?? inputs.helpfulness
        let tokenizerSHA = try SHA256.hex(ofFile: inputs.tokenizer)
        for (role, stage) in [("policy", inputs.policy), ("reference", reference), ("value model", valueInit),
                              ("helpfulness model", inputs.helpfulness), ("safety model", inputs.safety)] {
            try ModelProvenance.check(stage, role: role, tokenizer: inputs.tokenizer, tokenizerSHA: tokenizerSHA, template: settings.template)
        }
        let prompts = try StageRecordReader.readAll(PromptRecord.self, outputPrefix: "prompts-", from: inputs.prompts)
        guard !prompts.records.isEmpty else {
            throw StageError("ppo: no prompts in the prompts-* sets of \(inputs.prompts.map(\.path).joined(separator: ", "))")
        }
        try checkSafetyTags(prompts.records, settings: settings, stages: inputs.prompts)
        var reward = CombinedReward(gateThreshold: settings.gateThreshold)
        var statisticsFiles: [URL] = []
        if let rs = inputs.rewardStatistics {
            let artifact = try RejectionSamplingStage.RewardArtifact.read(from: rs)
            reward.gateThreshold = artifact.reward.gateThreshold
            reward.whitening = settings.whitening == .fixed ? artifact.reward.whitening : nil
            statisticsFiles = [rs.appendingPathComponent(RejectionSamplingStage.RewardArtifact.fileName)]
        }
        if settings.whitening == .fixed && reward.whitening == nil {
            throw StageError("ppo: --whitening fixed needs a rejection-sampling stage's statistics (--reward-stats STAGE)")
        }
        // Models load before the stage begins, so a critic of another shape is refused before any work.
        let policyModel = try StageModel.load(inputs.policy)
        let criticModel = try critic(from: valueInit, shape: policyModel.config)
        let modelFiles = [inputs.policy, reference, valueInit, inputs.helpfulness, inputs.safety].map(StageModel.inputFile)
        let stage = try StageWriter.begin(
            runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: "ppo",
            config: ResolvedConfig(settings: settings, policy: inputs.policy.path, reference: reference.path, valueInit: valueInit.path,
                                   helpfulness: inputs.helpfulness.path, safety: inputs.safety.path),
            inputs: [inputs.tokenizer] + Array(Set(modelFiles)).sorted { $0.path < $1.path } + prompts.files + statisticsFiles,
            seed: settings.seed, keepUnfinished: true)
        return try stage.finish {
            let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: inputs.tokenizer.path), template: settings.template)
            let eos = templated.info.eosID
            let referenceModel = try StageModel.load(reference)
            let seqLen = policyModel.config.maxSeqLen
            let policyPass = try ResponseTokenPass(model: policyModel, rows: settings.rows, seqLen: seqLen, padToken: eos)
            let rollouts = PPORollouts(
                settings: settings, prompts: prompts.records,
                sampler: try PolicySampler(model: policyModel, templated: templated, maxSequences: settings.maxSequences),
                policy: policyPass, reference: try ResponseTokenPass(model: referenceModel, rows: settings.rows, seqLen: seqLen, padToken: eos),
                critic: try ResponseTokenPass(model: criticModel, rows: settings.rows, seqLen: seqLen, padToken: eos),
                scorer: try CombinedScorer(helpfulness: inputs.helpfulness, safety: inputs.safety, eos: eos),
                reward: reward)
            let loop = PPOLoop(settings: settings, stage: stage, rollouts: rollouts,
                               update: PPOUpdate(policy: policyPass, critic: rollouts.critic, loss: settings.loss, temperature: settings.sampling.temperature),
                               judgeEvery: judgeEvery, judge: judge, log: log)
            let summary = try loop.run(progress: progress)
            try StageModel.save(policyModel, to: stage, metadata: ["stage": location.stage, "template": settings.template.rawValue])
            for (name, value) in summary.last { stage.setMetric(name, value) }
            if let first = summary.judged.keys.min(), let firstFigures = summary.judged[first] {
                for (name, value) in firstFigures { stage.setMetric("initial_" + name, value) }
            }
            stage.setMetric("iterations", Double(summary.iterations))
            stage.setMetric("non_finite_steps", Double(summary.nonFiniteSteps))
            stage.setMetric("gate_threshold", reward.gateThreshold)
            return summary
        }
    }

    /// The critic: the value-init model's trunk with its reward head as the value head (a model with
    /// a value head keeps it). Its trunk must have the policy's shape.
    static func critic(from stage: URL, shape policy: LlamaConfig) throws -> LlamaModel {
        let term = try RewardLikelihoodTerm.load(from: stage)
        let source = try StageModel.load(stage, heads: term.heads.union(.reward), allowMissingHeads: true)
        let c = source.config
        guard c.dim == policy.dim, c.nLayers == policy.nLayers, c.vocabSize == policy.vocabSize, c.maxSeqLen >= policy.maxSeqLen else {
            throw StageError("ppo: the value model \(stage.path) (dim \(c.dim), \(c.nLayers) layers, vocabulary \(c.vocabSize), context \(c.maxSeqLen)) does not match the policy (dim \(policy.dim), \(policy.nLayers) layers, vocabulary \(policy.vocabSize), context \(policy.maxSeqLen))")
        }
        var tensors = try source.tensors()
        guard let head = tensors.removeValue(forKey: LlamaTensorNames.rewardHead) else {
            throw StageError("ppo: the value model \(stage.path) has no reward head to start the value head from")
        }
        tensors[LlamaTensorNames.valueHead] = head
        tensors.removeValue(forKey: LlamaTensorNames.lmHead)
        let critic = try LlamaModel(config: c, heads: .value)
        try critic.load(tensors, source: stage.path)
        return critic
    }

    /// The gate's rule needs IS_SAFETY(p): a prompt set with no `safety` or `helpfulness` tag at all
    /// is refused unless untagged prompts are explicitly helpfulness prompts.
    static func checkSafetyTags(_ prompts: [PromptRecord], settings: PPOSettings, stages: [URL]) throws {
        let tagged = prompts.contains { $0.prompt.tags.contains("safety") || $0.prompt.tags.contains("helpfulness") }
        if !tagged && !settings.untaggedAreHelpfulness {
            throw StageError("ppo: none of the \(prompts.count) prompts in \(stages.map(\.path).joined(separator: ", ")) carries a 'safety' or 'helpfulness' tag, so the combined reward cannot tell safety prompts (field prompt.tags); tag them at import, or pass --untagged-prompts-are-helpfulness to treat every prompt as a helpfulness prompt")
        }
    }
}
