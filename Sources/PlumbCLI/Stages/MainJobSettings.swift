// The main job's sizes: the standard setting (the README's first command) and --quick (CI's smoke
// test). The model is trained from scratch, so its learning rates are those of a small model trained
// from scratch, not Llama 2's fine-tuning rates (which assume a 7B+ model that already speaks).
// Three pretraining epochs rather than one: measured on seed 1, the SFT policy's held-out oracle
// helpfulness went from 0.202 to 0.283 and pretraining validation loss from 0.709 to about 0.60, for
// about two more minutes; the reward models' agreement with the oracle did not change (0.765 / 0.732).
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

    static let standard = MainJobSettings(
        taskPreset: "standard", tokenizerVocab: 1024, dim: 128, hidden: 344, layers: 4, heads: 4, kvHeads: 2, seqLen: 128,
        rows: 16, pretrainEpochs: 3, pretrainLearningRate: 3e-3, sftEpochs: 2, sftLearningRate: 1e-3,
        rewardEpochs: 1, rewardLearningRate: 3e-4, helpfulnessModel: .helpfulness, safetyModel: .safety, evalMaxNewTokens: 48,
        rejectionSampling: RejectionSamplingSettings(k: 10, temperature: 0.6, bestOfK: 16, sftEpochs: 1, sftLearningRate: 3e-4),
        dpo: DPOSettings(beta: 0.1, learningRate: 2e-4, epochs: 1))

    static let quick = MainJobSettings(
        taskPreset: "quick", tokenizerVocab: 512, dim: 48, hidden: 128, layers: 2, heads: 4, kvHeads: 2, seqLen: 96,
        rows: 8, pretrainEpochs: 1, pretrainLearningRate: 3e-3, sftEpochs: 1, sftLearningRate: 1e-3,
        rewardEpochs: 1, rewardLearningRate: 3e-4, helpfulnessModel: .helpfulness, safetyModel: .safety, evalMaxNewTokens: 40,
        rejectionSampling: RejectionSamplingSettings(k: 4, temperature: 0.6, bestOfK: 4, sftEpochs: 1, sftLearningRate: 3e-4),
        dpo: DPOSettings(beta: 0.1, learningRate: 2e-4, epochs: 1))

    /// A Hugging Face config.json for the fresh model (the vocabulary is the tokenizer's).
    func modelConfigJSON() -> Data {
        Data("""
        {"hidden_size": \(dim), "intermediate_size": \(hidden), "num_hidden_layers": \(layers), \
        "num_attention_heads": \(heads), "num_key_value_heads": \(kvHeads), "vocab_size": \(tokenizerVocab), \
        "max_position_embeddings": \(seqLen), "tie_word_embeddings": true}
        """.utf8)
    }
}

/// One reward model's score and data in the main job. Measured on seed 1 unless said (oracle
/// agreement on the model's own dimension, one epoch at lr 3e-4, docs/reward.md):
/// - helpfulness, likelihood term `sum`: beta 0 / 0.1 / 0.3 / 0.5 / 1 gave 0.746 / 0.837 / 0.856 /
///   0.802 / 0.795; `centred` 0.3 gave 0.833; a 90/10 helpfulness/safety mixture 0.834.
/// - safety, Llama 2's 90/10 mixture: head only 0.836; `sum` 0.05 0.848 but its scores move down and
///   the gate sigmoid(score) < 0.15 flags many safe answers. A 70/30 mixture: head only 0.888;
///   with `centred` 0.05 0.912 (seeds 2 and 3: 0.916, 0.912); `centred` 0.1 0.856; 80/20 with
///   `centred` 0.05 0.900. `centred` has mean 0 per token under the model, so the scores do not
///   drift down with length the way `sum` makes them.
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
struct RejectionSamplingSettings: Codable {
    var k: Int
    var temperature: Float
    var bestOfK: Int
    var sftEpochs: Int
    var sftLearningRate: Float
}

/// The main job's DPO (sigmoid loss): a small model trained from scratch takes a larger learning rate
/// than TRL's 1e-6 for 7B models.
struct DPOSettings: Codable {
    var beta: Double
    var learningRate: Float
    var epochs: Int
}
