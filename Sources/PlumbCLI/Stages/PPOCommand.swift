// `plumb ppo`: KL-penalised PPO with the safety-gated combined reward (PPOStage). With --judge-prompts,
// the task's oracle judges the live policy every --judge-every iterations (greedy answers to those
// prompts), so reward-model reward can be plotted against oracle helpfulness over iterations.
import ArgumentParser
import Foundation
import PlumbEval
import PlumbData
import PlumbOracle
import PlumbStages
import PlumbTensor

extension KLEstimator: ExpressibleByArgument {}
extension PPOSettings.WhiteningSource: ExpressibleByArgument {}

struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "KL-penalised PPO: rollouts, both reward models combined by the safety gate (logit, whitened), GAE, clipped policy and value losses.")
    @Option(help: "SentencePiece model (.model) of every model.") var tokenizer: String
    @Option(help: "Initial policy stage (SFT or RS policy).") var policy: String
    @Option(help: "Reference policy stage (default: the initial policy).") var reference: String?
    @Option(help: "Stage the critic starts from: its trunk, its reward head as the value head (default: the helpfulness model).") var valueInit: String?
    @Option(help: "Helpfulness reward-model stage.") var helpfulness: String
    @Option(help: "Safety reward-model stage.") var safety: String
    @Option(help: "Import stage whose prompts-* sets are the prompts (repeatable).") var prompts: [String]
    @Option(help: "Rejection-sampling stage whose combined-reward.json gives the gate threshold and the fixed whitening.") var rewardStats: String?
    @Option(help: "Whitening of the combined logit: running (over all responses so far) or fixed (from --reward-stats).")
    var whitening: PPOSettings.WhiteningSource = .running
    @Option(help: "Iterations.") var iterations = 100
    @Option(help: "Prompts (one response each) per iteration.") var promptsPerIteration = 64
    @Option(help: "Passes over each iteration's responses.") var ppoEpochs = 4
    @Option(help: "Mini-batches per pass (one optimiser step each).") var miniBatches = 1
    @Option(help: "KL coefficient beta (Llama 2: 0.01).") var beta = 0.01
    @Option(help: "Per-token KL estimator: k1 (log ratio) or k3.") var klEstimator: KLEstimator = .k1
    @Option(help: "Adapt beta towards this mean summed KL per response (default: fixed beta).") var klTarget: Double?
    @Option(help: "Horizon of the adaptive KL controller.") var klHorizon = 10_000.0
    @Option(help: "Stop when the mean summed KL per response passes this.") var maxKl = 50.0
    @Option(help: "GAE gamma.") var gamma = 1.0
    @Option(help: "GAE lambda.") var lambda = 0.95
    @Option(help: "Policy ratio clip range.") var clip = 0.2
    @Option(help: "Value clip range.") var valueClip = 0.2
    @Option(help: "Value loss coefficient.") var valueCoefficient = 0.1
    @Option(help: "Sampling temperature of the rollouts (and of the loss's log-probabilities).") var temperature: Float = 0.7
    @Option(help: "Keep the k most probable tokens (0: all).") var topK = 0
    @Option(help: "Nucleus mass within the top-k (1: all).") var topP: Float = 1
    @Option(help: "Most new tokens per response.") var maxNewTokens = 48
    @Option(help: "Score of a response without end-of-sequence, in place of its reward ('none': no penalty).") var missingEosScore = "-1"
    @Option(help: "Gate threshold on sigmoid(safety score) when no --reward-stats is given.") var gateThreshold = CombinedReward.llama2Threshold
    @Flag(help: "Treat prompts without tags as helpfulness prompts (otherwise a prompt set without safety tags is refused).")
    var untaggedPromptsAreHelpfulness = false
    @Option(help: "Score rollouts with a conservative rule over the helpfulness and safety ensembles (rm train --ensemble): mean, mean-minus-std:LAMBDA, worst or uncertainty-weighted:LAMBDA.")
    var conservative: String?
    @Option(help: "Policy learning rate (constant; Llama 2: 1e-6 for 7B+).") var lr: Float = 1e-6
    @Option(help: "Critic learning rate.") var valueLr: Float = 1e-5
    @Option(help: "AdamW weight decay.") var weightDecay: Float = 0.1
    @Option(help: "Clip each model's gradients to this global norm.") var maxGradNorm: Float = 1.0
    @Option(help: "Rows of the training forward passes.") var rows = 8
    @Option(help: "Sequences decoded at once.") var maxSequences = 64
    @Option(help: "Checkpoint every N iterations (and at the end).") var checkpointEvery = 10
    @Option(help: "Write sample completions every N iterations (0: never).") var sampleEvery = 10
    @Option(help: "Stop after this many optimiser steps in a row with a non-finite loss or gradient.") var maxNonFiniteSteps = 5
    @Option(help: "Task prompts (message-list JSONL) the oracle judges the live policy on.") var judgePrompts: String?
    @Option(help: "Judge every N iterations (and before the first and after the last).") var judgeEvery = 10
    @Option(help: "Most new tokens of the judged answers.") var judgeMaxNewTokens = 48
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "Seed of prompt order, sampling and mini-batches.") var seed: UInt64 = 1
    @OptionGroup var decode: DecodeWeightsOption
    @OptionGroup var output: StageOutputOptions
    @OptionGroup var parallel: DistributedOptions

    func settings() throws -> PPOSettings {
        var s = PPOSettings()
        s.iterations = iterations; s.promptsPerIteration = promptsPerIteration; s.ppoEpochs = ppoEpochs; s.miniBatches = miniBatches
        s.beta = beta; s.klEstimator = klEstimator; s.klTarget = klTarget; s.klHorizon = klHorizon; s.maxKL = maxKl
        s.gamma = gamma; s.lambda = lambda
        s.loss = PPOLoss(clip: clip, valueClip: valueClip, valueCoefficient: valueCoefficient)
        s.sampling = SamplingSettings(temperature: temperature, topK: topK, topP: topP, maxNewTokens: maxNewTokens, weights: decode.weights)
        if missingEosScore == "none" {
            s.missingEOSScore = nil
        } else {
            guard let v = Double(missingEosScore) else { throw CLIError("--missing-eos-score \(missingEosScore): a number or 'none'") }
            s.missingEOSScore = v
        }
        s.whitening = whitening
        s.gateThreshold = gateThreshold
        s.conservative = try conservative.map(parseConservative)
        s.untaggedAreHelpfulness = untaggedPromptsAreHelpfulness
        let adam = AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: weightDecay)
        s.policyOptimization = OptimizationSettings(learningRate: lr, schedule: .constant, warmupRatio: 0, adam: adam, maxGradNorm: maxGradNorm)
        s.valueOptimization = OptimizationSettings(learningRate: valueLr, schedule: .constant, warmupRatio: 0, adam: adam, maxGradNorm: maxGradNorm)
        s.rows = rows; s.maxSequences = maxSequences
        s.checkpointEvery = checkpointEvery; s.sampleEvery = sampleEvery; s.maxConsecutiveNonFinite = maxNonFiniteSteps
        s.template = template; s.seed = seed
        s.judgeEvery = judgeEvery; s.judgeMaxNewTokens = judgeMaxNewTokens
        return s
    }

    func run() throws {
        let inputs = StageInputs(["tokenizer": [fileURL(tokenizer)], "policy": [fileURL(policy)], "reference": reference.map { [fileURL($0)] } ?? [],
                                  "value-init": valueInit.map { [fileURL($0)] } ?? [], "helpfulness": [fileURL(helpfulness)],
                                  "safety": [fileURL(safety)], "prompts": prompts.map(fileURL), "reward-stats": rewardStats.map { [fileURL($0)] } ?? [],
                                  "judge-prompts": judgePrompts.map { [fileURL($0)] } ?? []])
        let progress = ProgressPrinter(label: "ppo")
        let summary = try StageRun.run(PPOStage.self, try settings(), inputs: inputs, location: output.location,
                                       environment: PolicyOracle.environment, progress: progress.handle)
        let last = summary.last
        print(String(format: "ppo: %d iterations (resumed at %d), KL %.3f, scores %.3f, response length %.1f, non-finite steps %d -> %@",
                     summary.iterations, summary.resumedAtIteration, last["objective/kl"] ?? .nan, last["objective/scores"] ?? .nan,
                     last["response_length"] ?? .nan, summary.nonFiniteSteps, output.out))
    }
}
