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
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
        InputSlot("init-from", .one, "The SFT stage (or Hugging Face directory) the reward model starts from."),
        InputSlot("data", .oneOrMore, "Import stage with comparisons-train / comparisons-validation sets."),
    ]

    public struct Parameters: TrainingParameters, DistributedParameters, Equatable {
        public var dimension: PreferenceDimension = .helpfulness
        /// Margin table: none, small, large (Llama 2 Table 27) or custom (`customMargins`).
        public var margin: MarginTable.Name = .small
        /// With margin custom: four margins, strongest first, e.g. "1,0.5,0.25,0".
        public var customMargins: String?
        /// c of the centring term c · mean((r_c + r_r)²); 0 = off.
        public var centring: Float = 0
        /// Mixture components SOURCE:DIMENSION=WEIGHT (MixtureWeight); empty: Llama 2's mixture for `dimension`.
        public var mix: [String] = []
        public var template: ChatTemplate = .plumbline
        /// Add beta · the model's own log-likelihood of the response to the head's score: none (Llama 2),
        /// sum, mean per token, or centred (each token's log-probability plus its entropy).
        public var likelihood: RewardLikelihoodTerm.Kind = .none
        /// beta of `likelihood`.
        public var likelihoodWeight: Float = 0.1
        /// Train a LoRA adapter and its own reward head over the frozen `init-from` model; the stage
        /// keeps the adapter with the head (PEFT's layout, `score` in modules_to_save). LoRASettings.
        public var lora: LoRASettings?
        /// Also train on safety pairs drawn from labelled responses (`labelled-responses-<split>` of the
        /// import stages): each prompt's safe responses over its unsafe ones. Nil (off) leaves the
        /// resolved config, and so the cache key, as without the option.
        public var labelledPairs: Bool?
        /// Llama 2's reward-model settings: lr 1e-5, cosine to 10%, warm-up 3%, one epoch.
        public var optimisation = OptimisationGroup(lr: 1e-5, seqLen: 256, rows: 8, epochs: 1)
        public var parallel = DistributedGroup()
        /// N members trained by seeds seed, seed+1, ... (RewardEnsemble); nil or 1: one model. Nil
        /// leaves the resolved config, and so the cache key, as before.
        public var ensemble: Int?

        public init() {}
        public init(dimension: PreferenceDimension) { self.dimension = dimension }
        /// Which reward model is no default: a file or command line names it.
        public static let requiredKeys = ["dimension"]

        public func validate() throws {
            if let n = ensemble, !(1...64).contains(n) {
                throw StageParameterError("ensemble", "the number of ensemble members must be in 1...64; got \(n)")
            }
            try optimisation.validate()
            guard centring >= 0 else { throw StageParameterError("centring", "must be >= 0") }
            guard (margin == .custom) == (customMargins != nil) else {
                throw StageParameterError("custom-margins", "goes with margin custom, and only with it")
            }
            _ = try margins
            do { _ = try mixture } catch let error as StageError { throw StageParameterError("mix", error.description) }
        }

        /// The margin table `margin` (and `customMargins`) name.
        public var margins: MarginTable {
            get throws { try MarginTable(margin, custom: customMargins) }
        }

        /// The mixture `mix` gives (nil: none given).
        public var mixture: RewardMixture? {
            get throws { try RewardMixture.parse(mix, requireDimension: true) }
        }

        public var resolvedMixture: RewardMixture {
            get throws { try mixture ?? .llama2(for: dimension) }
        }

        /// The likelihood term `likelihood` and `likelihoodWeight` give (weight 0 when none).
        public var likelihoodTerm: RewardLikelihoodTerm {
            RewardLikelihoodTerm(kind: likelihood, weight: likelihood == .none ? 0 : likelihoodWeight)
        }
    }

    public struct Summary: StageSummary {
        public var training: TrainingSummary
        public var trainPairs: Int
        public var validationPairs: Int
        public var truncatedSequences: Int
        public var mixture: [String: [MixtureComponentReport]]
        /// Members 1..N-1 of an ensemble (member 0 is `training`).
        public var members: [EnsembleMembers.Report]?

        public var metrics: [String: Double] {
            var out = training.metrics
            out["train_pairs"] = Double(trainPairs)
            out["validation_pairs"] = Double(validationPairs)
            out["truncated_sequences"] = Double(truncatedSequences)
            for (split, report) in mixture { out.merge(MixtureComponentReport.metrics(report, split: split)) { $1 } }
            if let members { out.merge(EnsembleMembers.metrics(members)) { $1 } }
            return out
        }
    }

    public struct Loaded {
        var data: RewardData
        var initialModel: URL
        var vocabSize: Int
        var eos: Int32
        /// The stage's input files (each member's manifest records them too).
        var files: [URL]
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let tokenizerFile = try inputs.one("tokenizer"), initialModel = try inputs.one("init-from")
        let tokenizer = try Tokenizer(modelFile: tokenizerFile.path)
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        do { try parameters.mixture?.validate(sources: SourcedComparisons.names(of: inputs.all("data"))) } catch let error as StageError {
            throw StageParameterError("mix", error.description)
        }
        let data = try RewardData.load(parameters, importStages: inputs.all("data"), templated: templated)
        let files = [tokenizerFile, StageModel.inputFile(initialModel)] + data.files
        return Prepared(Loaded(data: data, initialModel: initialModel, vocabSize: tokenizer.vocabSize, eos: templated.info.eosID, files: files),
                        files: files)
    }

    public static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> Summary {
        let data = loaded.data
        let (model, training) = try trainMember(loaded, parameters: parameters, stage: stage)
        var summary = Summary(training: training, trainPairs: data.train.pairs.count, validationPairs: data.validation.pairs.count,
                              truncatedSequences: data.train.truncated + data.validation.truncated,
                              mixture: ["train": data.trainMixture, "validation": data.validationMixture])
        if let n = parameters.ensemble, n > 1 {
            summary.members = try EnsembleMembers.train(n, first: model, firstTraining: training, loaded: loaded, parameters: parameters, stage: stage)
        }
        return summary
    }

    /// One model trained from `parameters.seed` into `stage`'s directory, which it leaves holding the model.
    static func trainMember(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> (LlamaModel, TrainingSummary) {
        let data = loaded.data
        let loadedModel = try initialModel(loaded.initialModel, vocabSize: loaded.vocabSize, seqLen: parameters.seqLen, seed: parameters.seed,
                                           heads: parameters.likelihoodTerm.heads, gradients: parameters.lora == nil)
        let plan = try RewardBatches.plan(pairs: data.train.pairs, rows: parameters.rows, seqLen: parameters.seqLen,
                                          accumulation: parameters.loop.optimization.gradientAccumulation,
                                          epochs: parameters.epochs, seed: parameters.seed)
        let lora = try LoRAStageSetup(parameters.lora, model: loadedModel, base: loaded.initialModel, seed: parameters.seed,
                                      loop: parameters.loop, heads: .reward)
        let model = lora.model
        let objective = try RewardObjective(model: model, train: data.train.pairs, validation: data.validation.pairs,
                                            rows: parameters.rows, seqLen: parameters.seqLen, padToken: loaded.eos,
                                            centring: parameters.centring, likelihood: parameters.likelihoodTerm, adapter: lora.adapter)
        let training = try TrainingStageRun.train(model, adapter: lora.adapter, base: lora.base, plan: plan, objective: objective,
                                                  settings: lora.loop, stage: stage,
                                                  metadata: ["template": parameters.template.rawValue, "dimension": parameters.dimension.rawValue])
        if parameters.likelihoodTerm.isActive { try parameters.likelihoodTerm.save(to: stage.directory) }
        return (model, training)
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
