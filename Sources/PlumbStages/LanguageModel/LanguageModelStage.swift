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

public enum LanguageModelStage {
    public struct Parameters: Codable, Equatable, Sendable {
        public var mask: LossMask
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
        /// Mixture weight of each import stage's training demonstrations, in the order of the import
        /// stages (empty: all 1): DemonstrationMixture.
        public var importWeights: [Double] = []

        public init(mask: LossMask) { self.mask = mask }
    }

    /// Where the model starts.
    public enum Initialisation: Codable, Equatable, Sendable {
        /// A fresh model of this config (vocabulary taken from the tokenizer), initialised from `seed`.
        case fresh(LlamaConfigFile, seed: UInt64)
        /// The model of a stage directory or a Hugging Face directory.
        case checkpoint(String)
    }

    public struct Inputs: Sendable {
        public var tokenizer: URL
        public var initialisation: Initialisation
        public var textFiles: [URL] = []
        public var importStages: [URL] = []
        /// Import stages whose `comparisons-train` / `comparisons-validation` records become dialogues.
        public var comparisonStages: [URL] = []
        public var comparisonResponses: ComparisonResponses = .chosen
        public init(tokenizer: URL, initialisation: Initialisation, textFiles: [URL] = [], importStages: [URL] = [],
                    comparisonStages: [URL] = [], comparisonResponses: ComparisonResponses = .chosen) {
            self.tokenizer = tokenizer
            self.initialisation = initialisation
            self.textFiles = textFiles
            self.importStages = importStages
            self.comparisonStages = comparisonStages
            self.comparisonResponses = comparisonResponses
        }
    }

    /// The manifest's resolved config: parameters plus the initialisation.
    struct ResolvedConfig: Encodable {
        var parameters: Parameters
        var initialisation: Initialisation
    }

    public static func run(_ parameters: Parameters, inputs: Inputs, location: StageLocation, kind: String,
                           progress: @escaping ProgressHandler = { _ in }) throws -> TrainingSummary {
        let tokenizer = try Tokenizer(modelFile: inputs.tokenizer.path)
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        let data = try loadExamples(parameters, inputs: inputs, tokenizer: tokenizer, templated: templated)
        guard !data.train.examples.isEmpty else { throw StageError("\(location.stage): no training examples in the inputs") }
        let initFiles = try initialisationFiles(inputs.initialisation)
        let stage = try StageWriter.begin(runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: kind,
                                          config: ResolvedConfig(parameters: parameters, initialisation: inputs.initialisation),
                                          inputs: [inputs.tokenizer] + initFiles + data.files, seed: parameters.seed,
                                          keepUnfinished: true)
        return try stage.finish {
            let model = try makeModel(inputs.initialisation, vocabSize: tokenizer.vocabSize, seqLen: parameters.seqLen)
            let plan = try BatchPlan(lengths: data.train.lengths, rows: parameters.rows, seqLen: parameters.seqLen,
                                     layout: parameters.layout, accumulation: parameters.loop.optimization.gradientAccumulation,
                                     epochs: parameters.epochs, seed: parameters.seed)
            let objective = try LanguageModelObjective(model: model, train: data.train.examples, validation: data.validation.examples,
                                                       rows: parameters.rows, seqLen: parameters.seqLen, layout: parameters.layout,
                                                       padToken: templated.info.eosID)
            let summary = try TrainingStageRun.train(model, plan: plan, objective: objective, settings: parameters.loop, stage: stage,
                                                     metadata: ["stage": location.stage, "template": parameters.template.rawValue],
                                                     progress: progress)
            record(summary, data: data, in: stage)
            return summary
        }
    }

    struct LoadedExamples {
        var train: TokenExampleSet
        var validation: TokenExampleSet
        var files: [URL]
    }

    static func loadExamples(_ p: Parameters, inputs: Inputs, tokenizer: Tokenizer, templated: TemplatedTokenizer) throws -> LoadedExamples {
        var train = TokenExampleSet(examples: [], droppedTooLong: 0, truncated: 0)
        var validation = train
        var files: [URL] = []
        if !inputs.textFiles.isEmpty {
            let (trainTexts, validationTexts) = try TextPassages.read(inputs.textFiles, validationShare: p.textValidationShare)
            let bos = templated.info.bosID, eos = templated.info.eosID
            train.examples += try TokenExamples.passages(trainTexts, tokenizer: tokenizer, bos: bos, eos: eos, seqLen: p.seqLen).examples
            validation.examples += try TokenExamples.passages(validationTexts, tokenizer: tokenizer, bos: bos, eos: eos, seqLen: p.seqLen).examples
            files += inputs.textFiles
        }
        let mixture = try DemonstrationMixture(weights: p.importWeights, stages: inputs.importStages.count, seed: p.seed)
        for (split, isTrain) in [("train", true), ("validation", false)] {
            var dialogues: [([Message], String)] = []
            for (index, stage) in inputs.importStages.enumerated() {
                let read = try StageRecordReader.read(Demonstration.self, output: "demonstrations-" + split, from: [stage])
                // Weights shape the training mixture only; every validation demonstration counts once.
                let kept = isTrain ? mixture.apply(read.records, stage: index, id: \.id) : read.records
                dialogues += kept.map { ($0.prompt.messages, $0.response) }
                files += read.files
            }
            let compared = try StageRecordReader.read(Comparison.self, output: "comparisons-" + split, from: inputs.comparisonStages)
            dialogues += inputs.comparisonResponses.dialogues(compared.records)
            files += compared.files
            let set = try TokenExamples.dialogues(dialogues, templated: templated, seqLen: p.seqLen, mask: p.mask)
            if isTrain { merge(&train, set) } else { merge(&validation, set) }
        }
        return LoadedExamples(train: train, validation: validation, files: files)
    }

    static func merge(_ a: inout TokenExampleSet, _ b: TokenExampleSet) {
        a.examples += b.examples
        a.droppedTooLong += b.droppedTooLong
        a.truncated += b.truncated
    }

    static func makeModel(_ initialisation: Initialisation, vocabSize: Int, seqLen: Int) throws -> LlamaModel {
        switch initialisation {
        case let .fresh(file, seed):
            var file = file
            file.vocabSize = vocabSize
            file.maxPositionEmbeddings = max(file.maxPositionEmbeddings ?? seqLen, seqLen)
            return try LlamaModel(config: try file.resolved(), heads: .lm, seed: seed)
        case .checkpoint(let path):
            let model = try StageModel.load(URL(fileURLWithPath: path), heads: .lm)
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

    static func record(_ s: TrainingSummary, data: LoadedExamples, in stage: StageWriter) {
        stage.setMetric("steps", Double(s.steps))
        stage.setMetric("train_loss", Double(s.finalLoss))
        stage.setMetric("tokens_per_second", s.tokensPerSecond)
        stage.setMetric("train_examples", Double(data.train.examples.count))
        stage.setMetric("validation_examples", Double(data.validation.examples.count))
        stage.setMetric("dropped_too_long", Double(data.train.droppedTooLong + data.validation.droppedTooLong))
        stage.setMetric("truncated", Double(data.train.truncated + data.validation.truncated))
        for (k, v) in s.finalEvaluation { stage.setMetric(k, v) }
        for (k, v) in s.initialEvaluation { stage.setMetric("initial_" + k, v) }
    }
}

/// Where a stage writes: `runsRoot/run/stage`.
public struct StageLocation: Sendable {
    public var runsRoot: URL
    public var run: String
    public var stage: String
    public init(runsRoot: URL, run: String, stage: String) {
        self.runsRoot = runsRoot
        self.run = run
        self.stage = stage
    }
    public var directory: URL { runsRoot.appendingPathComponent(run).appendingPathComponent(stage) }
}
