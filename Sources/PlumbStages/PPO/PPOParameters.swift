// The parameters of `plumb ppo` as the command line and pipeline files write them (one key per
// flag: `lr`, `value-lr`, `clip`, `missing-eos-score`, the sampling group's `temperature` ...),
// resolved into the plain `PPOSettings` that PPO's code reads (STYLE.md habit 1: a Codable file
// config resolved into a plain struct). Defaults are Llama 2's and TRL's (PPOSettings).
import Foundation
import PlumbData
import PlumbModel
import PlumbTensor

/// Also an option group: the `rl` stage embeds it, so its PPO keys are these.
public struct PPOParameters: DistributedParameters, ParameterGroup, Equatable {
    public var iterations = 100
    /// Prompts (one response each) per iteration.
    public var promptsPerIteration = 64
    /// Passes over each iteration's responses.
    public var ppoEpochs = 4
    /// Mini-batches per pass (one optimiser step each).
    public var miniBatches = 1
    /// KL coefficient beta (Llama 2: 0.01).
    public var beta = 0.01
    public var klEstimator: KLEstimator = .k1
    /// Adapt beta towards this mean summed KL per response (nil: fixed beta).
    public var klTarget: Double?
    public var klHorizon = 10_000.0
    /// Stop when the mean summed KL per response passes this.
    public var maxKl = 50.0
    /// GAE gamma and lambda.
    public var gamma = 1.0
    public var lambda = 0.95
    /// Policy ratio clip range, value clip range, value loss coefficient.
    public var clip = 0.2
    public var valueClip = 0.2
    public var valueCoefficient = 0.1
    /// The rollouts' sampling (the loss's log-probabilities use the same temperature).
    public var sampling = SamplingSettings(temperature: 0.7, topK: 0, topP: 1, maxNewTokens: 48)
    /// Score of a response without end-of-sequence, in place of its reward: a number, or `none` (no penalty).
    public var missingEosScore = "-1"
    /// Whitening of the combined logit: running (over all responses so far) or fixed (from `reward-stats`).
    public var whitening: PPOSettings.WhiteningSource = .running
    /// Gate threshold on sigmoid(safety score) when no `reward-stats` input is given.
    public var gateThreshold = CombinedReward.llama2Threshold
    /// Score rollouts with this conservative rule over the helpfulness and safety ensembles
    /// (`rm train --ensemble`): mean, mean-minus-std:LAMBDA, worst or uncertainty-weighted:LAMBDA.
    public var conservative: ConservativeRule?
    /// Treat prompts without tags as helpfulness prompts (otherwise a prompt set without safety tags is refused).
    public var untaggedPromptsAreHelpfulness = false
    /// Policy learning rate (constant; Llama 2: 1e-6 for 7B+) and the critic's.
    public var lr: Float = 1e-6
    public var valueLr: Float = 1e-5
    /// AdamW weight decay and gradient clipping of each model.
    public var weightDecay: Float = 0.1
    public var maxGradNorm: Float = 1.0
    /// Rows of the training forward passes; sequences decoded at once.
    public var rows = 8
    public var maxSequences = 64
    /// Checkpoint every N iterations (and at the end); write sample completions every N iterations (0: never).
    public var checkpointEvery = 10
    public var sampleEvery = 10
    /// Checkpoints kept on disk; sample completions written at each sampling iteration.
    public var keepCheckpoints = 2
    public var samplesKept = 16
    /// Stop after this many optimiser steps in a row with a non-finite loss or gradient.
    public var maxNonFiniteSteps = 5
    /// Judge the live policy every N iterations (with a `judge-prompts` input); most new tokens of its answers.
    public var judgeEvery = 10
    public var judgeMaxNewTokens = 48
    public var template: ChatTemplate = .plumbline
    /// Seed of prompt order, sampling and mini-batches.
    public var seed: UInt64 = 1
    /// Train the policy and the critic as LoRA adapters on the frozen policy input; the reference is
    /// the bare base and LoRA reward models are read on the same base (PPOAdapters). LoRASettings; its
    /// `lr` is the policy's learning rate.
    public var lora: LoRASettings?
    public var parallel = DistributedGroup()

    public init() {}
    public var manifestSeed: UInt64? { seed }

    public func validate() throws {
        guard missingEosScore == "none" || Double(missingEosScore) != nil else {
            throw StageParameterError("missing-eos-score", "\(missingEosScore): a number or none")
        }
        try settings.validate()
    }

    /// The settings PPO's code reads.
    public var settings: PPOSettings {
        var s = PPOSettings()
        (s.iterations, s.promptsPerIteration, s.ppoEpochs, s.miniBatches) = (iterations, promptsPerIteration, ppoEpochs, miniBatches)
        (s.beta, s.klEstimator, s.klTarget, s.klHorizon, s.maxKL) = (beta, klEstimator, klTarget, klHorizon, maxKl)
        (s.gamma, s.lambda) = (gamma, lambda)
        s.loss = PPOLoss(clip: clip, valueClip: valueClip, valueCoefficient: valueCoefficient)
        s.sampling = sampling
        s.missingEOSScore = missingEosScore == "none" ? nil : Double(missingEosScore)
        (s.whitening, s.gateThreshold, s.untaggedAreHelpfulness) = (whitening, gateThreshold, untaggedPromptsAreHelpfulness)
        s.conservative = conservative
        let adam = AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: weightDecay)
        s.policyOptimization = OptimizationSettings(learningRate: lr, schedule: .constant, warmupRatio: 0, adam: adam, maxGradNorm: maxGradNorm)
        s.valueOptimization = OptimizationSettings(learningRate: valueLr, schedule: .constant, warmupRatio: 0, adam: adam, maxGradNorm: maxGradNorm)
        (s.rows, s.maxSequences) = (rows, maxSequences)
        (s.checkpointEvery, s.sampleEvery, s.maxConsecutiveNonFinite) = (checkpointEvery, sampleEvery, maxNonFiniteSteps)
        (s.keepCheckpoints, s.samplesKept) = (keepCheckpoints, samplesKept)
        (s.template, s.seed) = (template, seed)
        s.lora = lora
        if let lr = lora?.learningRate { s.policyOptimization.learningRate = lr }
        (s.judgeEvery, s.judgeMaxNewTokens) = (judgeEvery, judgeMaxNewTokens)
        return s
    }
}
