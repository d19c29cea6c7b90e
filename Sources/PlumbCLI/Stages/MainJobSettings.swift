// The main job's sizes: the standard setting (the README's first command) and --quick (CI's smoke
// test). The model is trained from scratch, so its learning rates are those of a small model trained
// from scratch, not Llama 2's fine-tuning rates (which assume a 7B+ model that already speaks).
// The standard setting pretrains for three epochs rather than one (the comparison is in
// docs/stages.md, "Main job settings").
import Foundation
import PlumbStages

struct MainJobSettings: Codable {
    var taskPreset: String
    var tokenizerVocab: Int
    var dim: Int
    var hidden: Int
    var layers: Int
    var heads: Int
    var kvHeads: Int
    var seqLen: Int
    var rows: Int
    var pretrainEpochs: Int
    var pretrainLearningRate: Float
    var sftEpochs: Int
    var sftLearningRate: Float
    var rewardEpochs: Int
    var rewardLearningRate: Float
    /// How each reward model scores and what it trains on (see RewardModelSettings).
    var helpfulnessModel: RewardModelSettings
    var safetyModel: RewardModelSettings
    var evalMaxNewTokens: Int
    /// Rejection sampling on the RS prompts from the SFT policy, then SFT on its best samples.
    var rejectionSampling: RejectionSamplingSettings
    /// DPO from the SFT policy on the annotators' comparisons, and on the RS pairs.
    var dpo: DPOSettings
    /// PPO from the RS policy (Llama 2's order), judged by the oracle as it trains.
    var ppo: PPOMainJobSettings

    static let standard = MainJobSettings(
        taskPreset: "standard", tokenizerVocab: 1024, dim: 128, hidden: 344, layers: 4, heads: 4, kvHeads: 2, seqLen: 128,
        rows: 16, pretrainEpochs: 3, pretrainLearningRate: 3e-3, sftEpochs: 2, sftLearningRate: 1e-3,
        rewardEpochs: 1, rewardLearningRate: 3e-4, helpfulnessModel: .helpfulness, safetyModel: .safety, evalMaxNewTokens: 48,
        rejectionSampling: RejectionSamplingSettings(k: 10, temperature: 0.6, bestOfK: 16, sftEpochs: 1, sftLearningRate: 3e-4,
                                                     humanRankShare: 0.05, humanEditShare: 0.05),
        dpo: DPOSettings(beta: 0.1, learningRate: 5e-5, epochs: 1),
        ppo: PPOMainJobSettings(iterations: 60, promptsPerIteration: 64, ppoEpochs: 2, learningRate: 3e-5, valueLearningRate: 1e-4,
                                beta: 0.05, judgeEvery: 20))

    static let quick = MainJobSettings(
        taskPreset: "quick", tokenizerVocab: 512, dim: 48, hidden: 128, layers: 2, heads: 4, kvHeads: 2, seqLen: 96,
        rows: 8, pretrainEpochs: 1, pretrainLearningRate: 3e-3, sftEpochs: 1, sftLearningRate: 1e-3,
        rewardEpochs: 1, rewardLearningRate: 3e-4, helpfulnessModel: .helpfulness, safetyModel: .safety, evalMaxNewTokens: 40,
        rejectionSampling: RejectionSamplingSettings(k: 4, temperature: 0.6, bestOfK: 4, sftEpochs: 1, sftLearningRate: 3e-4,
                                                     humanRankShare: 0.05, humanEditShare: 0.05),
        dpo: DPOSettings(beta: 0.1, learningRate: 5e-5, epochs: 1),
        ppo: PPOMainJobSettings(iterations: 4, promptsPerIteration: 16, ppoEpochs: 2, learningRate: 3e-5, valueLearningRate: 1e-4,
                                beta: 0.05, judgeEvery: 2))

    /// A Hugging Face config.json for the fresh model (the vocabulary is the tokenizer's).
    func modelConfigJSON() -> Data {
        Data("""
        {"hidden_size": \(dim), "intermediate_size": \(hidden), "num_hidden_layers": \(layers), \
        "num_attention_heads": \(heads), "num_key_value_heads": \(kvHeads), "vocab_size": \(tokenizerVocab), \
        "max_position_embeddings": \(seqLen), "tie_word_embeddings": true}
        """.utf8)
    }
}

/// One reward model's score and data in the main job: helpfulness adds the summed log-likelihood
/// term (beta 0.3); safety trains on a 70/30 safety/helpfulness mixture with the entropy-centred
/// term (beta 0.05), which has mean 0 per token under the model, so its scores do not drift down with
/// length the way `sum` makes them (and the gate sigmoid(score) < 0.15 keeps its precision). The
/// sweeps behind these choices are in docs/reward.md ("With the likelihood term", "The safety model").
struct RewardModelSettings: Codable {
    /// RewardLikelihoodTerm kind and its beta.
    var likelihood: RewardLikelihoodTerm.Kind
    var likelihoodWeight: Float
    /// `rm train --mix` weights; empty for Llama 2's default mixture of the dimension.
    var mixture: [String]

    static let helpfulness = RewardModelSettings(likelihood: .sum, likelihoodWeight: 0.3, mixture: [])
    static let safety = RewardModelSettings(likelihood: .centred, likelihoodWeight: 0.05,
                                            mixture: ["*:safety=0.7", "*:helpfulness=0.3"])

    /// The `rm train` arguments of these settings.
    var arguments: [String] {
        ["--likelihood", likelihood.rawValue, "--likelihood-weight", "\(likelihoodWeight)"] + mixture.flatMap { ["--mix", $0] }
    }
}

/// The main job's rejection sampling: k samples per RS prompt at a temperature (TigerBot: 10 at 0.6),
/// SFT from the SFT policy on the best samples mixed with the SFT demonstrations (Llama 2 keeps the
/// earlier data to avoid regressions), and best-of-k curves on the evaluation prompts up to `bestOfK`.
/// Shares of the RS prompts go to the task's simulated annotators for ranking and editing (TigerBot:
/// 5% each) and are folded back in before the SFT.
struct RejectionSamplingSettings: Codable {
    var k: Int
    var temperature: Float
    var bestOfK: Int
    var sftEpochs: Int
    var sftLearningRate: Float
    var humanRankShare: Double
    var humanEditShare: Double
}

/// The main job's DPO (sigmoid loss): a small model trained from scratch takes a larger learning rate
/// than TRL's 1e-6 for 7B models.
struct DPOSettings: Codable {
    var beta: Double
    var learningRate: Float
    var epochs: Int
}

/// The main job's PPO (METHODS.md section 7): TRL's beta 0.05 and constant learning rates, larger than
/// Llama 2's 1e-6 because the model is small and trained from scratch (at 1e-4 with beta 0.01 the
/// policy collapsed onto one generic answer the helpfulness model over-rates: docs/alignment.md); the critic starts from the
/// helpfulness model; the combined reward is whitened with the RS stage's statistics of the SFT
/// policy's samples; the oracle judges the live policy every `judgeEvery` iterations.
struct PPOMainJobSettings: Codable {
    var iterations: Int
    var promptsPerIteration: Int
    var ppoEpochs: Int
    var learningRate: Float
    var valueLearningRate: Float
    var beta: Double
    var judgeEvery: Int
}
