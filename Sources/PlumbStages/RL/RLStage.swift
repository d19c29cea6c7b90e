// `plumb stage rl` / `kind: rl`: policy optimisation from the safety-gated, logit-transformed,
// whitened combined reward with a choice of estimator (RLEstimation.swift: PPO with its critic, RLOO,
// GRPO, REINFORCE++). It runs PPO's own code: the rollouts (PPORollouts, here with `group-size`
// responses per prompt), the combined reward (CombinedScorer, CombinedReward), the KL estimators and
// controller (KLPenalty), the clipped surrogate (PPOLoss), the update (PPOUpdate, without a critic
// for the critic-free estimators), the loop with its guards, figures and checkpoints (PPOLoop). Only
// the advantages (GroupAdvantages) and the KL term of the loss (LossKL) are its own.
//
// Its parameters are flat keys (the pipeline file's and the command line's), resolved into
// PPOSettings and an RLEstimation.
import Foundation
import PlumbData
import PlumbModel
import PlumbTensor

extension StageKind {
    public static let rl: StageKind = "rl"
}

public enum RLStage: Stage {
    public static let kind = StageKind.rl
    public static let abstract = "RL from the gated combined reward: estimator ppo (critic, GAE), rloo, grpo or reinforce++ on PPO's rollouts, KL and guards."
    public static let rerun = StageRerun.resume
    public static let slots = PPOStage.slots + [
        InputSlot("validation-prompts", .optional, "Held-out prompts (message-list JSONL) on which the live policy is validated (not the judge's test prompts)."),
        InputSlot("validation-task", .optional, "Task (or month) directory whose simulated annotators compare the live policy's answers with the reference's."),
    ]

    public struct Parameters: StageParameters, Equatable {
        public var estimator: RLEstimator = .grpo
        /// Responses per prompt (k); RLOO and GRPO need at least 2.
        public var groupSize = 4
        public var klIn: KLPlacement = .reward
        /// GRPO: divide by the group's std (false: Dr. GRPO).
        public var scaleRewards = true
        public var iterations = 100
        /// Prompts per iteration; an iteration has prompts-per-iteration x group-size responses.
        public var promptsPerIteration = 16
        /// Passes over each iteration's responses (PPO's ppo-epochs, GRPO's mu).
        public var epochs = 1
        public var miniBatches = 1
        public var beta = 0.01
        public var klEstimator: KLEstimator = .k1
        public var klTarget: Double?
        public var klHorizon = 10_000.0
        public var maxKl = 50.0
        /// GAE (estimator ppo only).
        public var gamma = 1.0
        public var lambda = 0.95
        public var clip = 0.2
        public var valueClip = 0.2
        public var valueCoefficient = 0.1
        public var temperature: Float = 0.7
        public var topK = 0
        public var topP: Float = 1
        public var maxNewTokens = 48
        public var decodeWeights: DecodeWeightFormat = .f32
        /// The score of a response without end-of-sequence; nil: scored like any other.
        public var missingEosScore: Double? = -1
        public var whitening: PPOSettings.WhiteningSource = .running
        public var gateThreshold = CombinedReward.llama2Threshold
        /// Score rollouts with this conservative rule over the helpfulness and safety ensembles (EnsembleScorer).
        public var conservative: ConservativeRule?
        public var untaggedPromptsAreHelpfulness = false
        public var lr: Float = 1e-6
        /// The critic's learning rate (estimator ppo only).
        public var valueLr: Float = 1e-5
        public var weightDecay: Float = 0.1
        public var maxGradNorm: Float = 1.0
        public var rows = 8
        public var maxSequences = 64
        public var checkpointEvery = 10
        public var keepCheckpoints = 2
        public var sampleEvery = 10
        public var samplesKept = 16
        public var maxNonFiniteSteps = 5
        public var judgeEvery = 10
        public var judgeMaxNewTokens = 48
        /// Validate the live policy every N iterations (and before the first and after the last) when
        /// validation-prompts and validation-task are given.
        public var validateEvery = 10
        /// Keep the policy of the iteration with the best validation figure (early stopping), not the last one.
        public var keepBest = false
        /// The most validation prompts used (the first ones of the file).
        public var validationLimit = 500
        public var template: ChatTemplate = .plumbline
        public var seed: UInt64 = 1

        public init() {}
        public var manifestSeed: UInt64? { seed }

        public var estimation: RLEstimation {
            RLEstimation(estimator: estimator, groupSize: groupSize, klIn: klIn, scaleRewards: scaleRewards)
        }

        /// PPO's settings with these values.
        public var ppo: PPOSettings {
            var s = PPOSettings()
            s.iterations = iterations; s.promptsPerIteration = promptsPerIteration; s.ppoEpochs = epochs; s.miniBatches = miniBatches
            s.beta = beta; s.klEstimator = klEstimator; s.klTarget = klTarget; s.klHorizon = klHorizon; s.maxKL = maxKl
            s.gamma = gamma; s.lambda = lambda
            s.loss = PPOLoss(clip: clip, valueClip: valueClip, valueCoefficient: valueCoefficient)
            s.sampling = SamplingSettings(temperature: temperature, topK: topK, topP: topP, maxNewTokens: maxNewTokens, weights: decodeWeights)
            s.missingEOSScore = missingEosScore
            s.whitening = whitening; s.gateThreshold = gateThreshold; s.untaggedAreHelpfulness = untaggedPromptsAreHelpfulness
            s.conservative = conservative
            let adam = AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: weightDecay)
            s.policyOptimization = OptimizationSettings(learningRate: lr, schedule: .constant, warmupRatio: 0, adam: adam, maxGradNorm: maxGradNorm)
            s.valueOptimization = OptimizationSettings(learningRate: valueLr, schedule: .constant, warmupRatio: 0, adam: adam, maxGradNorm: maxGradNorm)
            s.rows = rows; s.maxSequences = maxSequences
            s.checkpointEvery = checkpointEvery; s.keepCheckpoints = keepCheckpoints; s.sampleEvery = sampleEvery; s.samplesKept = samplesKept
            s.maxConsecutiveNonFinite = maxNonFiniteSteps
            s.judgeEvery = judgeEvery; s.judgeMaxNewTokens = judgeMaxNewTokens
            s.template = template; s.seed = seed
            return s
        }

        public func validate() throws {
            guard groupSize >= 1 else { throw StageParameterError("group-size", "must be at least 1; got \(groupSize)") }
            if estimator.needsGroups && groupSize < 2 {
                throw StageParameterError("group-size", "\(estimator.rawValue) compares each response with the others to its prompt, so it needs at least 2 responses per prompt; got \(groupSize)")
            }
            if estimator == .ppo && klIn == .loss {
                throw StageParameterError("kl-in", "the ppo estimator takes the KL in the reward (its per-token rewards feed GAE); use kl-in reward")
            }
            guard validationLimit >= 1 else { throw StageParameterError("validation-limit", "must be at least 1; got \(validationLimit)") }
            guard validateEvery >= 1 else { throw StageParameterError("validate-every", "must be at least 1; got \(validateEvery)") }
            guard epochs >= 1 else { throw StageParameterError("epochs", "must be at least 1; got \(epochs)") }
            guard miniBatches <= promptsPerIteration * groupSize else {
                throw StageParameterError("mini-batches", "\(miniBatches) mini-batches need at least as many responses per iteration (\(promptsPerIteration * groupSize))")
            }
            do { try ppo.validate() } catch let error as StageError {
                throw StageParameterError("rl", error.description)
            }
        }
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<PPOStage.Loaded> {
        let validating = inputs.optional("validation-prompts") != nil, task = inputs.optional("validation-task") != nil
        if validating != task {
            throw StageError("rl: validation needs both validation-prompts (held-out prompts) and validation-task (whose annotators compare); got only \(validating ? "validation-prompts" : "validation-task")")
        }
        if parameters.keepBest && !validating {
            throw StageError("rl: keep-best keeps the policy with the best validation figure; give validation-prompts and validation-task")
        }
        return try PPOStage.prepare(parameters.ppo, critic: parameters.estimator.needsCritic, inputs: inputs)
    }

    public static func execute(_ loaded: PPOStage.Loaded, parameters: Parameters, stage: StageContext) throws -> PPOStage.Summary {
        try PPOStage.train(loaded, settings: parameters.ppo, estimation: parameters.estimation,
                           validation: (parameters.validateEvery, parameters.keepBest, parameters.validationLimit), stage: stage)
    }
}
