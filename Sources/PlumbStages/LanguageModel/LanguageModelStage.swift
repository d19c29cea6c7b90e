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

public struct LanguageModelParameters<K: LanguageModelTraining>: StageParameters, Equatable {
    public var seqLen: Int = 128
    /// Rows per micro-batch (each of seqLen tokens).
    public var rows: Int = 16
    public var layout: SequenceLayout = .packed
    public var epochs: Int = 2
    public var template: ChatTemplate = .plumbline
    /// Share of raw-text passages held out for validation (by hash of the passage).
    public var textValidationShare: Double = 0.02
    public var seed: UInt64 = 1
    public var loop: LoopSettings = LoopSettings()
    /// Mixture weight of each `data` stage's training demonstrations, in slot order (empty: all 1):
    /// DemonstrationMixture.
    public var importWeights: [Double] = []
    /// Responses of the `comparisons` stages to train on.
    public var comparisonResponses: ComparisonResponses = .chosen
    /// A fresh model of this preset's shape, when neither `config` nor `init-from` is given.
    public var initPreset: String?
    /// Seed of a fresh model's weights.
    public var initSeed: UInt64 = 1
    /// Train a LoRA adapter over the frozen `init-from` model instead of every weight; the stage then
    /// keeps the adapter only (PEFT's layout). E.g. `rank=8 alpha=16 lr=1e-4` (LoRASettings).
    public var lora: LoRASettings?

    public init() { loop.optimization.learningRate = K.defaultLearningRate }
    public var manifestSeed: UInt64? { seed }

    public func validate() throws {
        guard seqLen > 1 else { throw StageParameterError("seq-len", "must be > 1") }
        guard rows > 0 else { throw StageParameterError("rows", "must be > 0") }
        guard epochs > 0 else { throw StageParameterError("epochs", "must be > 0") }
        if let initPreset, LlamaPreset(rawValue: initPreset) == nil {
            throw StageParameterError("init-from", "\(initPreset) is no preset (\(LlamaPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
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
    public static var decodesFileKeys: Bool { false }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<LanguageModelStage.Loaded> {
        let tokenizerFile = try inputs.one("tokenizer")
        let tokenizer = try Tokenizer(modelFile: tokenizerFile.path)
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        let initialisation = try LanguageModelStage.initialisation(parameters, inputs: inputs)
        let data = try LanguageModelStage.loadExamples(parameters, mask: mask, inputs: inputs, tokenizer: tokenizer, templated: templated)
        guard !data.train.examples.isEmpty else { throw StageError("\(kind): no training examples in the inputs") }
        let loaded = LanguageModelStage.Loaded(examples: data, initialisation: initialisation, vocabSize: tokenizer.vocabSize,
                                               padToken: templated.info.eosID)
        return Prepared(loaded, files: [tokenizerFile] + (try LanguageModelStage.initialisationFiles(initialisation)) + data.files)
    }

    public static func execute(_ loaded: LanguageModelStage.Loaded, parameters p: Parameters, stage: StageContext) throws -> LanguageModelSummary {
        let data = loaded.examples
        let model = try LanguageModelStage.makeModel(loaded.initialisation, vocabSize: loaded.vocabSize, seqLen: p.seqLen,
                                                     gradients: p.lora == nil)
        let lora = try LoRAStageSetup(p.lora, model: model, base: loaded.initialisation.location, seed: p.seed, loop: p.loop)
        let plan = try BatchPlan(lengths: data.train.lengths, rows: p.rows, seqLen: p.seqLen, layout: p.layout,
                                 accumulation: p.loop.optimization.gradientAccumulation, epochs: p.epochs, seed: p.seed)
        let objective = try LanguageModelObjective(model: model, train: data.train.examples, validation: data.validation.examples,
                                                   rows: p.rows, seqLen: p.seqLen, layout: p.layout, padToken: loaded.padToken,
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

    /// `config` (a fresh model of that shape), else `init-preset`, else the `init-from` model.
    static func initialisation<K>(_ p: LanguageModelParameters<K>, inputs: StageInputs) throws -> Initialisation {
        if let config = inputs.optional("config") {
            return .fresh(try LlamaConfigFile.decode(try Data(contentsOf: config), source: config.path), seed: p.initSeed)
        }
        if let name = p.initPreset, let preset = LlamaPreset(rawValue: name) { return .fresh(preset.config.file, seed: p.initSeed) }
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
            let (trainTexts, validationTexts) = try TextPassages.read(textFiles, validationShare: p.textValidationShare)
            let bos = templated.info.bosID, eos = templated.info.eosID
            train.examples += try TokenExamples.passages(trainTexts, tokenizer: tokenizer, bos: bos, eos: eos, seqLen: p.seqLen).examples
            validation.examples += try TokenExamples.passages(validationTexts, tokenizer: tokenizer, bos: bos, eos: eos, seqLen: p.seqLen).examples
            files += textFiles
        }
        let mixture = try DemonstrationMixture(weights: p.importWeights, stages: importStages.count, seed: p.seed)
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
            let set = try TokenExamples.dialogues(dialogues, templated: templated, seqLen: p.seqLen, mask: mask)
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
