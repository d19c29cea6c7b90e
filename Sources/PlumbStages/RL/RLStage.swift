// `plumb stage rl` / `kind: rl`: policy optimisation from the safety-gated, logit-transformed,
// whitened combined reward with a choice of estimator (RLEstimation.swift: PPO with its critic, RLOO,
// GRPO, REINFORCE++). It runs PPO's own code: the rollouts (PPORollouts, here with `group-size`
// responses per prompt), the combined reward (CombinedScorer, CombinedReward), the KL estimators and
// controller (KLPenalty), the clipped surrogate (PPOLoss), the update (PPOUpdate, without a critic
// for the critic-free estimators), the loop with its guards, figures and checkpoints (PPOLoop). Only
// the advantages (GroupAdvantages) and the KL term of the loss (LossKL) are its own.
//
// Its parameters are its own keys (estimator, group, validation) beside `plumb ppo`'s (PPOParameters,
// embedded as an option group), resolved into PPOSettings and an RLEstimation.
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

    public struct Parameters: DistributedParameters, Equatable {
        public var estimator: RLEstimator = .grpo
        /// Responses per prompt (k); RLOO and GRPO need at least 2.
        public var groupSize = 4
        public var klIn: KLPlacement = .reward
        /// GRPO: divide by the group's std (false: Dr. GRPO).
        public var scaleRewards = true
        /// Validate the live policy every N iterations (and before the first and after the last) when
        /// validation-prompts and validation-task are given.
        public var validateEvery = 10
        /// Keep the policy of the iteration with the best validation figure (early stopping), not the last one.
        public var keepBest = false
        /// The most validation prompts used (the first ones of the file).
        public var validationLimit = 500
        /// `plumb ppo`'s keys, one definition (PPOParameters: iterations, prompts-per-iteration,
        /// ppo-epochs, the KL, clip and learning-rate keys, the sampling group ...); an iteration has
        /// prompts-per-iteration x group-size responses. Here 16 prompts and one pass by default.
        public var ppo = PPOParameters()

        public init() {
            ppo.promptsPerIteration = 16
            ppo.ppoEpochs = 1
        }
        public var manifestSeed: UInt64? { ppo.seed }
        public var parallel: DistributedGroup { ppo.parallel }

        public var estimation: RLEstimation {
            RLEstimation(estimator: estimator, groupSize: groupSize, klIn: klIn, scaleRewards: scaleRewards)
        }

        /// PPO's settings with these values.
        public var settings: PPOSettings { ppo.settings }

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
            guard ppo.miniBatches <= ppo.promptsPerIteration * groupSize else {
                throw StageParameterError("mini-batches", "\(ppo.miniBatches) mini-batches need at least as many responses per iteration (\(ppo.promptsPerIteration * groupSize))")
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
        return try PPOStage.prepare(parameters.settings, critic: parameters.estimator.needsCritic, inputs: inputs)
    }

    public static func execute(_ loaded: PPOStage.Loaded, parameters: Parameters, stage: StageContext) throws -> PPOStage.Summary {
        try PPOStage.train(loaded, settings: parameters.settings, estimation: parameters.estimation,
                           validation: (parameters.validateEvery, parameters.keepBest, parameters.validationLimit), stage: stage)
    }
}
