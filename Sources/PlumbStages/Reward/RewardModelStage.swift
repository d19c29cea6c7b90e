// `plumb rm train`: a reward model for one dimension (helpfulness or safety), initialised from an
// SFT stage ("the reward model knows what the chat model knows", Llama 2 §3.2.2), its LM head
// replaced by the scalar head `score.weight` read at the last token of prompt + response.
//
// Inputs: a SentencePiece model; the SFT stage (or a Hugging Face directory); import stages whose
// `comparisons-train` / `comparisons-validation` outputs hold comparisons. The data mixture
// (RewardMixture) picks the training and validation comparisons; RewardObjective is the loss;
// the shared TrainingLoop does the optimisation, evaluation, checkpoints and exact resume.
// Output: the stage directory with the reward model (config.json + model.safetensors.zst, trunk +
// score head, and the LM head only with a likelihood term, then also `reward.json`), checkpoints,
// metrics.jsonl, and manifest metrics incl. the mixture.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

public enum RewardModelStage {
    public struct Parameters: Codable, Equatable, Sendable {
        public var dimension: PreferenceDimension
        public var margins: MarginTable = .small
        /// c of the centring term c · mean((r_c + r_r)²); 0 = off.
        public var centring: Float = 0
        /// nil = Llama 2's mixture for `dimension`.
        public var mixture: RewardMixture?
        public var seqLen: Int = 256
        /// Rows per micro-batch (each of seqLen tokens; comparisons are packed into them).
        public var rows: Int = 8
        /// Llama 2: one epoch.
        public var epochs: Int = 1
        public var template: ChatTemplate = .plumbline
        public var seed: UInt64 = 1
        /// beta * log-likelihood of the response added to the head's score; off (Llama 2) by default.
        public var likelihood: RewardLikelihoodTerm = .none
        /// Llama 2's reward-model settings: lr 1e-5, cosine to 10%, warm-up 3%.
        public var loop = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-5))
        /// Also train on safety pairs drawn from labelled responses (`labelled-responses-<split>` of the
        /// import stages): each prompt's safe responses over its unsafe ones. Nil (off) leaves the
        /// resolved config, and so the cache key, as before.
        public var labelledPairs: Bool?

        public init(dimension: PreferenceDimension) { self.dimension = dimension }

        public var resolvedMixture: RewardMixture { mixture ?? .llama2(for: dimension) }
    }

    public struct Inputs: Sendable {
        public var tokenizer: URL
        /// The SFT stage directory (or a Hugging Face directory) the reward model starts from.
        public var initialModel: URL
        public var importStages: [URL]
        public init(tokenizer: URL, initialModel: URL, importStages: [URL]) {
            self.tokenizer = tokenizer
            self.initialModel = initialModel
            self.importStages = importStages
        }
    }

    struct ResolvedConfig: Encodable {
        var parameters: Parameters
        var mixture: RewardMixture
        var initialModel: String
    }

    public static func run(_ parameters: Parameters, inputs: Inputs, location: StageLocation,
                           progress: @escaping ProgressHandler = { _ in }) throws -> TrainingSummary {
        let tokenizer = try Tokenizer(modelFile: inputs.tokenizer.path)
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        let data = try RewardData.load(parameters, importStages: inputs.importStages, templated: templated)
        let config = ResolvedConfig(parameters: parameters, mixture: parameters.resolvedMixture, initialModel: inputs.initialModel.path)
        let stage = try StageWriter.begin(runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: "rm",
                                          config: config, inputs: [inputs.tokenizer, StageModel.inputFile(inputs.initialModel)] + data.files,
                                          seed: parameters.seed, keepUnfinished: true)
        return try stage.finish {
            let model = try initialModel(inputs.initialModel, vocabSize: tokenizer.vocabSize, seqLen: parameters.seqLen, seed: parameters.seed,
                                         heads: parameters.likelihood.heads)
            let plan = try RewardBatches.plan(pairs: data.train.pairs, rows: parameters.rows, seqLen: parameters.seqLen,
                                              accumulation: parameters.loop.optimization.gradientAccumulation,
                                              epochs: parameters.epochs, seed: parameters.seed)
            let objective = try RewardObjective(model: model, train: data.train.pairs, validation: data.validation.pairs,
                                                rows: parameters.rows, seqLen: parameters.seqLen, padToken: templated.info.eosID,
                                                centring: parameters.centring, likelihood: parameters.likelihood)
            let summary = try TrainingStageRun.train(model, plan: plan, objective: objective, settings: parameters.loop, stage: stage,
                                                     metadata: ["stage": location.stage, "template": parameters.template.rawValue,
                                                                "dimension": parameters.dimension.rawValue],
                                                     progress: progress)
            if parameters.likelihood.isActive { try parameters.likelihood.save(to: stage.directory) }
            record(summary, data: data, in: stage)
            return summary
        }
    }

    /// The trunk of `directory`'s model with a reward head (and the LM head when `heads` asks). A head absent from the
    /// checkpoint (it loads as zeros) is initialised w ~ N(0, 1/C) from `seed`, so that r = h . w
    /// starts with unit scale for unit-RMS hidden states (a zero head would give the trunk no
    /// gradient at the first step).
    public static func initialModel(_ directory: URL, vocabSize: Int, seqLen: Int, seed: UInt64,
                                    heads: LlamaHeads = .reward) throws -> LlamaModel {
        let model = try StageModel.load(directory, heads: heads, allowMissingHeads: true)
        guard model.config.vocabSize == vocabSize else {
            throw StageError("\(directory.path): model vocabulary \(model.config.vocabSize) differs from the tokenizer's \(vocabSize)")
        }
        guard model.config.maxSeqLen >= seqLen else {
            throw StageError("\(directory.path): model supports \(model.config.maxSeqLen) positions, the stage asks for \(seqLen)")
        }
        guard let head = model.weights.rewardHead else { throw StageError("\(directory.path): no reward head after loading") }
        if (0..<head.count).allSatisfy({ head.pointer[$0] == 0 }) {
            var rng = SeededRNG(seed: seed ^ 0x5C0E_0000_0000_0001)
            rng.fillNormal(head, std: 1 / Float(model.config.dim).squareRoot())
        }
        return model
    }

    static func record(_ s: TrainingSummary, data: RewardData, in stage: StageWriter) {
        stage.setMetric("steps", Double(s.steps))
        stage.setMetric("train_loss", Double(s.finalLoss))
        stage.setMetric("tokens_per_second", s.tokensPerSecond)
        stage.setMetric("train_pairs", Double(data.train.pairs.count))
        stage.setMetric("validation_pairs", Double(data.validation.pairs.count))
        stage.setMetric("truncated_sequences", Double(data.train.truncated + data.validation.truncated))
        for (split, report) in [("train", data.trainMixture), ("validation", data.validationMixture)] {
            for c in report {
                let key = "mixture.\(split).\(c.key)"
                stage.setMetric(key + ".weight", c.weight)
                stage.setMetric(key + ".available", Double(c.available))
                stage.setMetric(key + ".taken", Double(c.taken))
            }
        }
        for (k, v) in s.finalEvaluation { stage.setMetric(k, v) }
    }
}
