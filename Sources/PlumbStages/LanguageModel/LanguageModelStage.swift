// `plumb pretrain` and `plumb sft`: one training stage over token examples, loss on all tokens
// (pretraining on raw text) or on response tokens only (SFT), packed or padded.
//
// Inputs: a SentencePiece model; raw text files (one passage per line) and/or import stages whose
// `demonstrations-train` / `demonstrations-validation` outputs hold (prompt, response) records, and
// import stages whose comparisons lend their chosen (or both) responses as dialogues: the DPO paper's
// "Preferred-FT" reference model on HH-RLHF is SFT on the chosen responses (Rafailov et al. 2023, 6.1).
// Output: the stage directory with the model (config.json + model.safetensors.zst), checkpoints for
// resume, metrics.jsonl and a manifest whose metrics hold the final losses and throughput.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

/// Pretraining and SFT share everything but the loss mask, the default learning rate and the name.
public protocol LanguageModelTraining: Stage where Parameters == LanguageModelParameters<Self>, Summary == LanguageModelSummary,
                                                   Loaded == LanguageModelStage.Loaded {
    static var mask: LossMask { get }
    static var defaultLearningRate: Float { get }
}

extension StageKind {
    public static let pretrain: StageKind = "pretrain"
    public static let sft: StageKind = "sft"
}

/// `plumb pretrain`: loss on every token of raw text (and dialogues).
public enum PretrainStage: LanguageModelTraining {
    public typealias Parameters = LanguageModelParameters<PretrainStage>
    public static let kind = StageKind.pretrain
    public static let abstract = "Train a language model on all tokens of raw text (and dialogues)."
    public static let mask = LossMask.allTokens
    public static let defaultLearningRate: Float = 3e-4
}

/// `plumb sft`: loss on response tokens only.
public enum SFTStage: LanguageModelTraining {
    public typealias Parameters = LanguageModelParameters<SFTStage>
    public static let kind = StageKind.sft
    public static let abstract = "Supervised fine-tuning: loss on response tokens only."
    public static let mask = LossMask.responseOnly
    public static let defaultLearningRate: Float = 2e-5
}

public struct LanguageModelParameters<K: LanguageModelTraining>: TrainingParameters, DistributedParameters, Equatable {
    public var model = ModelInitGroup()
    public var optimisation = OptimisationGroup(lr: K.defaultLearningRate)
    /// packed (block-diagonal attention) or padded.
    public var layout: SequenceLayout = .packed
    /// Chat template for dialogue records.
    public var template: ChatTemplate = .plumbline
    /// Share of raw-text passages held out for validation (by hash of the passage).
    public var textValidationShare: Double = 0.02
    /// Mixture weight of each `data` stage's training demonstrations, in slot order (empty: all 1;
    /// 0.5 keeps a seeded half, 2 repeats them): DemonstrationMixture.
    public var dataWeight: [Double] = []
    /// Responses of the `comparisons` stages to train on: chosen (the DPO paper's Preferred-FT) or both.
    public var comparisonResponses: ComparisonResponses = .chosen
    public var parallel = DistributedGroup()
    /// Train a LoRA adapter over the frozen `init-from` model instead of every weight; the stage then
    /// keeps the adapter only (PEFT's layout). E.g. `rank=8 alpha=16 lr=1e-4` (LoRASettings).
    public var lora: LoRASettings?

    public init() {}

    public func validate() throws {
        try model.validate()
        try optimisation.validate()
    }
}

public struct LanguageModelSummary: StageSummary {
    public var training: TrainingSummary
    public var trainExamples: Int
    public var validationExamples: Int
    public var droppedTooLong: Int
    public var truncated: Int

    public var metrics: [String: Double] {
        training.metrics.merging(["train_examples": Double(trainExamples), "validation_examples": Double(validationExamples),
                                  "dropped_too_long": Double(droppedTooLong), "truncated": Double(truncated)]) { $1 }
    }
}

extension LanguageModelTraining {
    public static var slots: [InputSlot] {
        [InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
         InputSlot("init-from", .optional, "A training stage or Hugging Face directory to start from."),
         InputSlot("config", .optional, "A Hugging Face config.json for a fresh model (overrides the preset's shape)."),
         InputSlot("text", .any, "Raw text file, one passage per line."),
         InputSlot("data", .any, "Import stage with demonstrations."),
         InputSlot("comparisons", .any, "Import stage with comparisons whose responses become dialogues.")]
    }
    public static var rerun: StageRerun { .resume }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<LanguageModelStage.Loaded> {
        let tokenizerFile = try inputs.one("tokenizer")
        let tokenizer = try Tokenizer(modelFile: tokenizerFile.path)
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        guard !(inputs.all("text") + inputs.all("data") + inputs.all("comparisons")).isEmpty else {
            throw StageParameterError("data", "give at least one `text`, `data` or `comparisons` input")
        }
        let initialisation = try LanguageModelStage.initialisation(parameters.model, inputs: inputs)
        let data = try LanguageModelStage.loadExamples(parameters, mask: mask, inputs: inputs, tokenizer: tokenizer, templated: templated)
        guard !data.train.examples.isEmpty else { throw StageError("\(kind): no training examples in the inputs") }
        let loaded = LanguageModelStage.Loaded(examples: data, initialisation: initialisation, vocabSize: tokenizer.vocabSize,
                                               padToken: templated.info.eosID)
        return Prepared(loaded, files: [tokenizerFile] + (try LanguageModelStage.initialisationFiles(initialisation)) + data.files)
    }

    public static func execute(_ loaded: LanguageModelStage.Loaded, parameters p: Parameters, stage: StageContext) throws -> LanguageModelSummary {
        let data = loaded.examples
        let o = p.optimisation
        let loadedModel = try LanguageModelStage.makeModel(loaded.initialisation, vocabSize: loaded.vocabSize, seqLen: o.seqLen,
                                                           gradients: p.lora == nil)
        let lora = try LoRAStageSetup(p.lora, model: loadedModel, base: loaded.initialisation.location, seed: o.seed, loop: o.loop)
        let model = lora.model
        let plan = try BatchPlan(lengths: data.train.lengths, rows: o.rows, seqLen: o.seqLen, layout: p.layout,
                                 accumulation: o.gradientAccumulation, epochs: o.epochs, seed: o.seed)
        let objective = try LanguageModelObjective(model: model, train: data.train.examples, validation: data.validation.examples,
                                                   rows: o.rows, seqLen: o.seqLen, layout: p.layout, padToken: loaded.padToken,
                                                   adapter: lora.adapter)
        let summary = try TrainingStageRun.train(model, adapter: lora.adapter, base: lora.base, plan: plan, objective: objective,
                                                 settings: lora.loop, stage: stage, metadata: ["template": p.template.rawValue])
        return LanguageModelSummary(training: summary, trainExamples: data.train.examples.count,
                                    validationExamples: data.validation.examples.count,
                                    droppedTooLong: data.train.droppedTooLong + data.validation.droppedTooLong,
                                    truncated: data.train.truncated + data.validation.truncated)
    }
}

/// The code pretraining and SFT share.
public enum LanguageModelStage {
    /// Where the model starts.
    public enum Initialisation: Codable, Equatable, Sendable {
        /// A fresh model of this config (vocabulary taken from the tokenizer), initialised from `seed`.
        case fresh(LlamaConfigFile, seed: UInt64)
        /// The model of a stage directory or a Hugging Face directory.
        case checkpoint(String)

        /// The directory of a `checkpoint`, nil for a fresh model.
        var location: URL? {
            guard case .checkpoint(let path) = self else { return nil }
            return URL(fileURLWithPath: path)
        }
    }

    public struct Loaded {
        var examples: LoadedExamples
        var initialisation: Initialisation
        var vocabSize: Int
        var padToken: Int32
    }

    /// `config` (a fresh model of that shape), else the `init-from` preset, else the `init-from` model.
    static func initialisation(_ p: ModelInitGroup, inputs: StageInputs) throws -> Initialisation {
        if let config = inputs.optional("config") {
            return .fresh(try LlamaConfigFile.decode(try Data(contentsOf: config), source: config.path), seed: p.initSeed)
        }
        if let preset = p.preset { return .fresh(preset.config.file, seed: p.initSeed) }
        guard let from = inputs.optional("init-from") else {
            throw StageParameterError("init-from", "give a preset (\(LlamaPreset.allCases.map(\.rawValue).joined(separator: ", "))), a model directory or a `config` input")
        }
        return .checkpoint(from.standardizedFileURL.path)
    }

    struct LoadedExamples {
        var train: TokenExampleSet
        var validation: TokenExampleSet
        var files: [URL]
    }

    static func loadExamples<K>(_ p: LanguageModelParameters<K>, mask: LossMask, inputs: StageInputs, tokenizer: Tokenizer,
                                templated: TemplatedTokenizer) throws -> LoadedExamples {
        let textFiles = inputs.all("text"), importStages = inputs.all("data"), comparisonStages = inputs.all("comparisons")
        var train = TokenExampleSet(examples: [], droppedTooLong: 0, truncated: 0)
        var validation = train
        var files: [URL] = []
        if !textFiles.isEmpty {
            let seqLen = p.optimisation.seqLen
            let (trainTexts, validationTexts) = try TextPassages.read(textFiles, validationShare: p.textValidationShare)
            let bos = templated.info.bosID, eos = templated.info.eosID
            train.examples += try TokenExamples.passages(trainTexts, tokenizer: tokenizer, bos: bos, eos: eos, seqLen: seqLen).examples
            validation.examples += try TokenExamples.passages(validationTexts, tokenizer: tokenizer, bos: bos, eos: eos, seqLen: seqLen).examples
            files += textFiles
        }
        let mixture = try DemonstrationMixture(weights: p.dataWeight, stages: importStages.count, seed: p.optimisation.seed)
        for (split, isTrain) in [("train", true), ("validation", false)] {
            var dialogues: [([Message], String)] = []
            for (index, stage) in importStages.enumerated() {
                let read = try StageRecordReader.read(Demonstration.self, output: "demonstrations-" + split, from: [stage])
                // Weights shape the training mixture only; every validation demonstration counts once.
                let kept = isTrain ? mixture.apply(read.records, stage: index, id: \.id) : read.records
                dialogues += kept.map { ($0.prompt.messages, $0.response) }
                files += read.files
            }
            let compared = try StageRecordReader.read(Comparison.self, output: "comparisons-" + split, from: comparisonStages)
            dialogues += p.comparisonResponses.dialogues(compared.records)
            files += compared.files
            let set = try TokenExamples.dialogues(dialogues, templated: templated, seqLen: p.optimisation.seqLen, mask: mask)
            if isTrain { merge(&train, set) } else { merge(&validation, set) }
        }
        return LoadedExamples(train: train, validation: validation, files: files)
    }

    static func merge(_ a: inout TokenExampleSet, _ b: TokenExampleSet) {
        a.examples += b.examples
        a.droppedTooLong += b.droppedTooLong
        a.truncated += b.truncated
    }

    static func makeModel(_ initialisation: Initialisation, vocabSize: Int, seqLen: Int, gradients: Bool = true) throws -> LlamaModel {
        switch initialisation {
        case let .fresh(file, seed):
            var file = file
            file.vocabSize = vocabSize
            file.maxPositionEmbeddings = max(file.maxPositionEmbeddings ?? seqLen, seqLen)
            return try LlamaModel(config: try file.resolved(), heads: .lm, seed: seed)
        case .checkpoint(let path):
            let model = try StageModel.load(URL(fileURLWithPath: path), heads: .lm, gradients: gradients)
            guard model.config.vocabSize == vocabSize else {
                throw StageError("\(path): model vocabulary \(model.config.vocabSize) differs from the tokenizer's \(vocabSize)")
            }
            guard model.config.maxSeqLen >= seqLen else {
                throw StageError("\(path): model supports \(model.config.maxSeqLen) positions, the stage asks for \(seqLen)")
            }
            return model
        }
    }

    static func initialisationFiles(_ initialisation: Initialisation) throws -> [URL] {
        guard case .checkpoint(let path) = initialisation else { return [] }
        return [StageModel.inputFile(URL(fileURLWithPath: path))]
    }
}
