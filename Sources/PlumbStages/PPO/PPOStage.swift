// `plumb ppo`: KL-penalised PPO (InstructGPT, Llama 2 section 3.2.3; ../shared/docs/METHODS.md
// sections 4 and 7) with the safety-gated, logit-transformed, whitened combined reward. Per iteration
// (PPORollouts, PPOUpdate): rollouts from the current policy, both reward models, the frozen
// reference's log-probabilities, the critic's values, GAE; then `ppoEpochs` passes over the rollouts
// in `miniBatches` seeded mini-batches, one optimiser step each for the policy and the critic (their
// own learning rates: two Trainer groups).
//
// Models: the policy (initial stage), the reference (default: the initial policy), the critic (a
// value head on a trunk, initialised from the helpfulness reward model with its head as the value
// head, as the N+ implementation details recommend), both reward models. With `lora`, all five roles
// share one frozen base (PPOAdapters).
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
        /// The iteration with the best validation figure, when the stage validated.
        public var best: PolicyValidationSchedule.Best? = nil

        public var metrics: [String: Double] {
            var out = last
            if let best { out["validation/best_iteration"] = Double(best.iteration); out["validation/best"] = best.value }
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
        var policyModel: LlamaModel, criticModel: LlamaModel?
        /// With `lora`: the frozen base (policyModel) and the policy's and critic's adapters on it.
        var adapters: PPOAdapters? = nil
        var tokenizer: URL, reference: URL, helpfulness: URL, safety: URL, judgePrompts: URL?
        var validationPrompts: URL? = nil, validationTask: URL? = nil
    }

    public static func prepare(_ parameters: PPOParameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        try prepare(parameters.settings, critic: true, inputs: inputs)
    }

    /// The inputs of any estimator (RLStage's too); the critic loads only when asked for.
    static func prepare(_ settings: PPOSettings, critic withCritic: Bool, inputs: StageInputs) throws -> Prepared<Loaded> {
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
        let loadedPolicy = try StageModel.load(policy, gradients: settings.lora == nil)
        let adapters = try settings.lora.map {
            try PPOAdapters($0, base: loadedPolicy, baseLocation: policy, valueInit: withCritic ? valueInit : nil, seed: settings.seed)
        }
        let policyModel = adapters?.base ?? loadedPolicy   // with `lora` `base=bf16`: its bf16 rounding
        let criticModel = withCritic && adapters == nil ? try critic(from: valueInit, shape: policyModel.config) : nil
        let modelFiles = (withCritic ? [policy, reference, valueInit] : [policy, reference]).map(StageModel.inputFile)
            + (try EnsembleScorer.rewardFiles(helpfulness: helpfulness, safety: safety, rule: settings.conservative))
        return Prepared(Loaded(prompts: prompts.records, reward: reward, policyModel: policyModel, criticModel: criticModel, adapters: adapters,
                               tokenizer: tokenizer,
                               reference: reference, helpfulness: helpfulness, safety: safety, judgePrompts: inputs.optional("judge-prompts"),
                               validationPrompts: inputs.optional("validation-prompts"), validationTask: inputs.optional("validation-task")),
                        files: [tokenizer] + Array(Set(modelFiles)).sorted { $0.path < $1.path } + prompts.files + statisticsFiles
                            + [inputs.optional("validation-prompts")].compactMap { $0 })
    }

    public static func execute(_ loaded: Loaded, parameters: PPOParameters, stage: StageContext) throws -> Summary {
        try train(loaded, settings: parameters.settings, estimation: .ppo, stage: stage)
    }

    /// The stage's body for any estimator (RLStage's too): the critic only when the estimator needs
    /// one, the KL term in the loss when the estimation puts it there.
    static func train(_ loaded: Loaded, settings: PPOSettings, estimation: RLEstimation, validation: (every: Int, keepBest: Bool, limit: Int)? = nil,
                      stage: StageContext) throws -> Summary {
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: loaded.tokenizer.path), template: settings.template)
        let eos = templated.info.eosID
        let policyModel = loaded.policyModel, adapters = loaded.adapters
        // With LoRA and no reference input, the reference is the bare base: the model the policy's adapter sits on.
        let referenceModel = adapters != nil && loaded.reference == adapters!.baseLocation ? policyModel : try StageModel.load(loaded.reference)
        let seqLen = policyModel.config.maxSeqLen
        let policyPass = try ResponseTokenPass(model: policyModel, rows: settings.rows, seqLen: seqLen, padToken: eos, adapter: adapters?.policy)
        // The roles on one LoRA base run one after the other, so they share the policy's activations.
        let sharing = adapters == nil ? nil : policyPass
        let criticPass = try adapters?.critic.map {
            try ResponseTokenPass(model: policyModel, rows: settings.rows, seqLen: seqLen, padToken: eos, adapter: $0, logits: false, sharing: sharing)
        } ?? loaded.criticModel.map { try ResponseTokenPass(model: $0, rows: settings.rows, seqLen: seqLen, padToken: eos) }
        let shared = adapters.map {
            EnsembleScorer.SharedBase(model: $0.base, source: "the policy's base \($0.baseLocation.path) (ppo with lora: every role shares it)",
                                      workspaces: policyPass.sequencePasses)
        }
        let rollouts = PPORollouts(
            settings: settings, prompts: loaded.prompts,
            sampler: try PolicySampler(model: policyModel, templated: templated, maxSequences: settings.maxSequences, adapter: adapters?.policy),
            policy: policyPass, reference: try ResponseTokenPass(model: referenceModel, rows: settings.rows, seqLen: seqLen, padToken: eos,
                                                                 sharing: referenceModel === policyModel ? sharing : nil),
            critic: criticPass,
            scorer: try CombinedScorer(helpfulness: loaded.helpfulness, safety: loaded.safety, eos: eos, conservative: settings.conservative,
                                       sharedBase: shared),
            reward: loaded.reward, estimation: estimation)
        let judge = try loaded.judgePrompts.flatMap { prompts in
            try stage.environment.policyJudge?(prompts, templated, SamplingSettings(temperature: 0, maxNewTokens: settings.judgeMaxNewTokens),
                                               settings.seed)
        }
        let schedule = try validationSchedule(loaded, validation: validation, templated: templated, reference: referenceModel,
                                              settings: settings, environment: stage.environment)
        let loop = PPOLoop(settings: settings, stage: stage.writer, rollouts: rollouts,
                           update: PPOUpdate(policy: policyPass, critic: rollouts.critic, settings: settings, estimation: estimation),
                           judgeEvery: settings.judgeEvery, judge: judge, validation: schedule, log: stage.log)
        var summary = try loop.run(progress: stage.progress)
        if let adapters {
            try StageModel.saveAdapter(adapters.policy, base: adapters.base, baseLocation: adapters.baseLocation, to: stage.writer)
        } else {
            try StageModel.save(policyModel, to: stage.writer, metadata: ["stage": stage.location.stage, "template": settings.template.rawValue])
        }
        summary.gateThreshold = loaded.reward.gateThreshold
        return summary
    }

    /// The validation of an RL stage given validation prompts and a task: the environment's validator
    /// against the reference's answers, greedy like the judge.
    static func validationSchedule(_ loaded: Loaded, validation: (every: Int, keepBest: Bool, limit: Int)?, templated: TemplatedTokenizer,
                                   reference: LlamaModel, settings: PPOSettings, environment: StageEnvironment) throws -> PolicyValidationSchedule? {
        guard let validation, let prompts = loaded.validationPrompts, let task = loaded.validationTask else { return nil }
        guard let make = environment.policyValidator else {
            throw StageError("rl: validation-prompts were given, but this caller has no validator of live policies (the built-in task's annotators come with `plumb stage rl` and pipelines)")
        }
        let judge = try make(prompts, task, templated, SamplingSettings(temperature: 0, maxNewTokens: settings.judgeMaxNewTokens), settings.seed, reference,
                             validation.limit)
        return PolicyValidationSchedule(judge: judge, every: validation.every, keepBest: validation.keepBest)
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
