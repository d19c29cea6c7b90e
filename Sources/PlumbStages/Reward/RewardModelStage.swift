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

extension StageKind {
    public static let rmTrain: StageKind = "rm train"
}

public enum RewardModelStage: Stage {
    public static let kind = StageKind.rmTrain
    public static let abstract = "Train a reward model (helpfulness or safety) from an SFT stage on comparisons."
    public static let rerun = StageRerun.resume
    public static let decodesFileKeys = false
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
        InputSlot("init-from", .one, "The SFT stage (or Hugging Face directory) the reward model starts from."),
        InputSlot("data", .oneOrMore, "Import stage with comparisons-train / comparisons-validation sets."),
    ]

    public struct Parameters: StageParameters, Equatable {
        public var dimension: PreferenceDimension = .helpfulness
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
        /// Train a LoRA adapter and its own reward head over the frozen `init-from` model; the stage
        /// keeps the adapter with the head (PEFT's layout, `score` in modules_to_save). LoRASettings.
        public var lora: LoRASettings?
        /// Also train on safety pairs drawn from labelled responses (`labelled-responses-<split>` of the
        /// import stages): each prompt's safe responses over its unsafe ones. Nil (off) leaves the
        /// resolved config, and so the cache key, as before.
        public var labelledPairs: Bool?

        public init() {}
        public init(dimension: PreferenceDimension) { self.dimension = dimension }
        public var manifestSeed: UInt64? { seed }

        public var resolvedMixture: RewardMixture { mixture ?? .llama2(for: dimension) }
    }

    public struct Summary: StageSummary {
        public var training: TrainingSummary
        public var trainPairs: Int
        public var validationPairs: Int
        public var truncatedSequences: Int
        public var mixture: [String: [MixtureComponentReport]]

        public var metrics: [String: Double] {
            var out = training.metrics
            out["train_pairs"] = Double(trainPairs)
            out["validation_pairs"] = Double(validationPairs)
            out["truncated_sequences"] = Double(truncatedSequences)
            for (split, report) in mixture { out.merge(MixtureComponentReport.metrics(report, split: split)) { $1 } }
            return out
        }
    }

    public struct Loaded {
        var data: RewardData
        var initialModel: URL
        var vocabSize: Int
        var eos: Int32
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let tokenizerFile = try inputs.one("tokenizer"), initialModel = try inputs.one("init-from")
        let tokenizer = try Tokenizer(modelFile: tokenizerFile.path)
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        let data = try RewardData.load(parameters, importStages: inputs.all("data"), templated: templated)
        return Prepared(Loaded(data: data, initialModel: initialModel, vocabSize: tokenizer.vocabSize, eos: templated.info.eosID),
                        files: [tokenizerFile, StageModel.inputFile(initialModel)] + data.files)
    }

    public static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> Summary {
        let data = loaded.data
        let model = try initialModel(loaded.initialModel, vocabSize: loaded.vocabSize, seqLen: parameters.seqLen, seed: parameters.seed,
                                     heads: parameters.likelihood.heads, gradients: parameters.lora == nil)
        let plan = try RewardBatches.plan(pairs: data.train.pairs, rows: parameters.rows, seqLen: parameters.seqLen,
                                          accumulation: parameters.loop.optimization.gradientAccumulation,
                                          epochs: parameters.epochs, seed: parameters.seed)
        let lora = try LoRAStageSetup(parameters.lora, model: model, base: loaded.initialModel, seed: parameters.seed,
                                      loop: parameters.loop, heads: .reward)
        let objective = try RewardObjective(model: model, train: data.train.pairs, validation: data.validation.pairs,
                                            rows: parameters.rows, seqLen: parameters.seqLen, padToken: loaded.eos,
                                            centring: parameters.centring, likelihood: parameters.likelihood, adapter: lora.adapter)
        let training = try TrainingStageRun.train(model, adapter: lora.adapter, base: lora.base, plan: plan, objective: objective,
                                                  settings: lora.loop, stage: stage,
                                                  metadata: ["template": parameters.template.rawValue, "dimension": parameters.dimension.rawValue])
        if parameters.likelihood.isActive { try parameters.likelihood.save(to: stage.directory) }
        return Summary(training: training, trainPairs: data.train.pairs.count, validationPairs: data.validation.pairs.count,
                       truncatedSequences: data.train.truncated + data.validation.truncated,
                       mixture: ["train": data.trainMixture, "validation": data.validationMixture])
    }

    /// The trunk of `directory`'s model with a reward head (and the LM head when `heads` asks). A head absent from the
    /// checkpoint (it loads as zeros) is initialised w ~ N(0, 1/C) from `seed`, so that r = h . w
    /// starts with unit scale for unit-RMS hidden states (a zero head would give the trunk no
    /// gradient at the first step).
    public static func initialModel(_ directory: URL, vocabSize: Int, seqLen: Int, seed: UInt64,
                                    heads: LlamaHeads = .reward, gradients: Bool = true) throws -> LlamaModel {
        let model = try StageModel.load(directory, heads: heads, allowMissingHeads: true, gradients: gradients)
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
}
