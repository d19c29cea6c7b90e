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

extension StageKind {
    public static let ppo: StageKind = "ppo"
}

public enum PPOStage: Stage {
    public typealias Parameters = PPOParameters
    public static let kind = StageKind.ppo
    public static let abstract = "KL-penalised PPO: rollouts, both reward models combined by the safety gate (logit, whitened), GAE, clipped policy and value losses."
    public static let rerun = StageRerun.resume
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model) of every model."),
        InputSlot("policy", .one, "Initial policy stage (SFT or RS policy)."),
        InputSlot("reference", .optional, "Reference policy stage (default: the initial policy)."),
        InputSlot("value-init", .optional, "Stage the critic starts from: its trunk, its reward head as the value head (default: the helpfulness model)."),
        InputSlot("helpfulness", .one, "Helpfulness reward-model stage."),
        InputSlot("safety", .one, "Safety reward-model stage."),
        InputSlot("prompts", .oneOrMore, "Import stage whose prompts-* sets are the prompts."),
        InputSlot("reward-stats", .optional, "Rejection-sampling stage whose combined-reward.json gives the gate threshold and the fixed whitening."),
        InputSlot("judge-prompts", .optional, "Task prompts (message-list JSONL) the environment's judge answers with the live policy."),
    ]

    /// The oracle's (or any judge's) figures of the policy at an iteration; PlumbStages never sees the judge itself.
    public typealias PolicyJudge = (_ iteration: Int, _ policy: LlamaModel) throws -> [String: Double]

    public struct Summary: StageSummary {
        public var iterations: Int
        public var resumedAtIteration: Int
        public var nonFiniteSteps: Int
        public var last: [String: Double]
        public var judged: [Int: [String: Double]]
        public var gateThreshold: Double?

        public var metrics: [String: Double] {
            var out = last
            if let first = judged.keys.min(), let firstFigures = judged[first] {
                for (name, value) in firstFigures { out["initial_" + name] = value }
            }
            out["iterations"] = Double(iterations)
            out["non_finite_steps"] = Double(nonFiniteSteps)
            if let gateThreshold { out["gate_threshold"] = gateThreshold }
            return out
        }
    }

    public struct Loaded {
        var prompts: [PromptRecord]
        var reward: CombinedReward
        var policyModel: LlamaModel, criticModel: LlamaModel
        var tokenizer: URL, reference: URL, helpfulness: URL, safety: URL, judgePrompts: URL?
    }

    public static func prepare(_ parameters: PPOParameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let settings = parameters.settings
        let tokenizer = try inputs.one("tokenizer"), policy = try inputs.one("policy")
        let helpfulness = try inputs.one("helpfulness"), safety = try inputs.one("safety")
        let reference = inputs.optional("reference") ?? policy
        let valueInit = inputs.optional("value-init") ?? helpfulness
        let tokenizerSHA = try SHA256.hex(ofFile: tokenizer)
        for (role, stage) in [("policy", policy), ("reference", reference), ("value model", valueInit),
                              ("helpfulness model", helpfulness), ("safety model", safety)] {
            try ModelProvenance.check(stage, role: role, tokenizer: tokenizer, tokenizerSHA: tokenizerSHA, template: settings.template)
        }
        let prompts = try StageRecordReader.readAll(PromptRecord.self, outputPrefix: "prompts-", from: inputs.all("prompts"))
        guard !prompts.records.isEmpty else {
            throw StageError("ppo: no prompts in the prompts-* sets of \(inputs.all("prompts").map(\.path).joined(separator: ", "))")
        }
        try checkSafetyTags(prompts.records, settings: settings, stages: inputs.all("prompts"))
        var reward = CombinedReward(gateThreshold: settings.gateThreshold)
        var statisticsFiles: [URL] = []
        if let rs = inputs.optional("reward-stats") {
            let artifact = try RejectionSamplingStage.RewardArtifact.read(from: rs)
            reward.gateThreshold = artifact.reward.gateThreshold
            reward.whitening = settings.whitening == .fixed ? artifact.reward.whitening : nil
            statisticsFiles = [rs.appendingPathComponent(RejectionSamplingStage.RewardArtifact.fileName)]
        }
        if settings.whitening == .fixed && reward.whitening == nil {
            throw StageError("ppo: --whitening fixed needs a rejection-sampling stage's statistics (--reward-stats STAGE)")
        }
        // Models load before the stage begins, so a critic of another shape is refused before any work.
        let policyModel = try StageModel.load(policy)
        let criticModel = try critic(from: valueInit, shape: policyModel.config)
        let modelFiles = [policy, reference, valueInit, helpfulness, safety].map(StageModel.inputFile)
        return Prepared(Loaded(prompts: prompts.records, reward: reward, policyModel: policyModel, criticModel: criticModel, tokenizer: tokenizer,
                               reference: reference, helpfulness: helpfulness, safety: safety, judgePrompts: inputs.optional("judge-prompts")),
                        files: [tokenizer] + Array(Set(modelFiles)).sorted { $0.path < $1.path } + prompts.files + statisticsFiles)
    }

    public static func execute(_ loaded: Loaded, parameters: PPOParameters, stage: StageContext) throws -> Summary {
        let settings = parameters.settings
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: loaded.tokenizer.path), template: settings.template)
        let eos = templated.info.eosID
        let policyModel = loaded.policyModel
        let referenceModel = try StageModel.load(loaded.reference)
        let seqLen = policyModel.config.maxSeqLen
        let policyPass = try ResponseTokenPass(model: policyModel, rows: settings.rows, seqLen: seqLen, padToken: eos)
        let rollouts = PPORollouts(
            settings: settings, prompts: loaded.prompts,
            sampler: try PolicySampler(model: policyModel, templated: templated, maxSequences: settings.maxSequences),
            policy: policyPass, reference: try ResponseTokenPass(model: referenceModel, rows: settings.rows, seqLen: seqLen, padToken: eos),
            critic: try ResponseTokenPass(model: loaded.criticModel, rows: settings.rows, seqLen: seqLen, padToken: eos),
            scorer: try CombinedScorer(helpfulness: loaded.helpfulness, safety: loaded.safety, eos: eos),
            reward: loaded.reward)
        let judge = try loaded.judgePrompts.flatMap { prompts in
            try stage.environment.policyJudge?(prompts, templated, SamplingSettings(temperature: 0, maxNewTokens: settings.judgeMaxNewTokens),
                                               settings.seed)
        }
        let loop = PPOLoop(settings: settings, stage: stage.writer, rollouts: rollouts,
                           update: PPOUpdate(policy: policyPass, critic: rollouts.critic, loss: settings.loss, temperature: settings.sampling.temperature),
                           judgeEvery: settings.judgeEvery, judge: judge, log: stage.log)
        var summary = try loop.run(progress: stage.progress)
        try StageModel.save(policyModel, to: stage.writer, metadata: ["stage": stage.location.stage, "template": settings.template.rawValue])
        summary.gateThreshold = loaded.reward.gateThreshold
        return summary
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
