// The settings PPO's code reads, with Llama 2's and TRL's defaults (../shared/docs/METHODS.md section 7);
// the stage's parameters (PPOParameters, the keys as written) resolve into them.
import Foundation
import PlumbData
import PlumbModel
import PlumbTensor

public struct PPOSettings: Codable, Equatable, Sendable {
    /// Iterations: each samples `promptsPerIteration` responses and takes `ppoEpochs` x
    /// `miniBatches` optimiser steps on them (Llama 2: 200-400 iterations).
    public var iterations = 100
    public var promptsPerIteration = 64
    public var ppoEpochs = 4
    public var miniBatches = 1
    /// The initial KL coefficient beta (Llama 2: 0.01) and the estimator of the per-token KL.
    public var beta = 0.01
    public var klEstimator: KLEstimator = .k1
    /// Adapt beta towards this mean summed KL per response (Ziegler et al.); nil keeps beta fixed.
    public var klTarget: Double?
    public var klHorizon = 10_000.0
    /// Stop the stage when the mean summed KL per response passes this (a run diverging from its reference).
    public var maxKL = 50.0
    public var gamma = 1.0
    public var lambda = 0.95
    public var loss = PPOLoss()
    /// Sampling of the rollouts; the log-probabilities of the loss use the same temperature.
    public var sampling = SamplingSettings(temperature: 0.7, topK: 0, topP: 1, maxNewTokens: 48)
    /// The score of a response that did not end with end-of-sequence, in place of its whitened
    /// reward (the N+ implementation details: about -1); nil scores it like any other.
    public var missingEOSScore: Double? = -1
    /// Whitening of the combined logit: running over every iteration's responses so far, or fixed
    /// from a rejection-sampling stage's statistics (the SFT policy's own samples).
    public var whitening: WhiteningSource = .running
    /// The gate's threshold on sigmoid(safety score) (from the rs stage when one is given).
    public var gateThreshold = CombinedReward.llama2Threshold
    /// Score rollouts with this conservative rule over the helpfulness and safety ensembles
    /// (EnsembleScorer); nil: each stage's own model. Nil leaves the config, and the cache key, as before.
    public var conservative: ConservativeRule?
    /// Prompts without a safety or helpfulness tag are treated as helpfulness prompts only when set;
    /// otherwise a prompt set without tags is refused (the gate's rule needs IS_SAFETY(p)).
    public var untaggedAreHelpfulness = false
    /// Policy and critic optimisation (Llama 2: AdamW 0.9 / 0.95, constant lr, clip 1.0).
    public var policyOptimization = OptimizationSettings(learningRate: 1e-6, schedule: .constant, warmupRatio: 0)
    public var valueOptimization = OptimizationSettings(learningRate: 1e-5, schedule: .constant, warmupRatio: 0)
    /// Rows of the training forward passes (each of the policy's context length).
    public var rows = 8
    /// Sequences decoded at once.
    public var maxSequences = 64
    public var checkpointEvery = 10
    public var keepCheckpoints = 2
    /// Write this many of an iteration's responses to a `samples-iteration-N` shard every
    /// `sampleEvery` iterations (and at the last); 0 turns it off.
    public var sampleEvery = 10
    public var samplesKept = 16
    public var maxConsecutiveNonFinite = 5
    public var template: ChatTemplate = .plumbline
    public var seed: UInt64 = 1
    /// Train the policy (and the critic) as LoRA adapters on the frozen policy input, the reference
    /// being the bare base (PPOAdapters); nil: every parameter of both. Nil leaves the config as before.
    public var lora: LoRASettings?

    public enum WhiteningSource: String, Codable, Sendable { case running, fixed }

    /// Judge the live policy every N iterations (and before the first and after the last) when the
    /// stage has `judge-prompts` and its environment a judge.
    public var judgeEvery = 10
    /// Most new tokens of the judged (greedy) answers.
    public var judgeMaxNewTokens = 48

    public init() {}

    public var stepsPerIteration: Int { ppoEpochs * miniBatches }

    public func validate() throws {
        try loss.validate()
        try sampling.sampling.validate()
        guard iterations >= 1, promptsPerIteration >= 1, ppoEpochs >= 1, miniBatches >= 1 else {
            throw StageError("ppo: iterations, prompts per iteration, PPO epochs and mini-batches must be at least 1")
        }
        guard miniBatches <= promptsPerIteration else {
            throw StageError("ppo: \(miniBatches) mini-batches need at least as many prompts per iteration (\(promptsPerIteration))")
        }
        guard sampling.temperature > 0 else { throw StageError("ppo: rollouts need a sampling temperature above 0 (the loss divides the logits by it)") }
        guard beta >= 0, beta.isFinite else { throw StageError("ppo: beta must be >= 0; got \(beta)") }
        if let t = klTarget, !(t > 0) { throw StageError("ppo: the KL target must be positive; got \(t)") }
        guard (0...1).contains(gamma), (0...1).contains(lambda) else { throw StageError("ppo: gamma and lambda must be in [0, 1]") }
        guard maxKL > 0 else { throw StageError("ppo: the KL bound must be positive") }
        guard rows > 0, maxSequences > 0 else { throw StageError("ppo: rows, sequence length and batch sizes must be positive") }
        try policyOptimization.validate()
        try valueOptimization.validate()
    }
}
