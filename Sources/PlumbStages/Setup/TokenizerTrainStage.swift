// `plumb tokenizer train` as a stage: a SentencePiece model trained on text files and/or the texts of
// record shards, written as `spm.model` and `spm.vocab` in the stage directory (a reference to the
// whole stage means `spm.model`).
import Foundation
import PlumbData
import PlumbStore

extension StageKind {
    public static let tokenizerTrain: StageKind = "tokenizer train"
}

public enum TokenizerTrainStage: Stage {
    public static let kind = StageKind.tokenizerTrain
    public static let abstract = "Train a SentencePiece model (writes spm.model and spm.vocab into the stage)."
    public static let mainFile: String? = "spm.model"
    public static let slots = [
        InputSlot("input", .any, "Text file, one sentence per line."),
        InputSlot("records", .any, "Record shards (a shard, stage or run directory) whose texts to train on."),
    ]
    static let prefix = "spm"

    public struct Parameters: StageParameters, Equatable {
        public var modelType: TokenizerModelType = .bpe
        public var vocabSize = 8_000
        /// Fall back to UTF-8 byte pieces for unknown characters.
        public var byteFallback = true
        /// One piece per digit (Llama 2's rule); false lets merges make whole numbers one piece.
        public var splitDigits = true
        /// User-defined special pieces; empty: the plumbline chat template's markers.
        public var specials: [String] = []
        /// Seed of the sentence sampling.
        public var seed: UInt32 = 1
        public init() {}
        public var manifestSeed: UInt64? { UInt64(seed) }
        public func validate() throws {
            guard vocabSize > 0 else { throw StageParameterError("vocab-size", "must be > 0") }
        }
    }

    public struct Summary: StageSummary {
        public var pieces: Int
        public var recordTexts: [Int]
        public var metrics: [String: Double] { ["vocab_size": Double(pieces), "record_texts": Double(recordTexts.reduce(0, +))] }
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<StageInputs> {
        guard !inputs.all("input").isEmpty || !inputs.all("records").isEmpty else {
            throw StageParameterError("input", "give at least one `input` text file or `records` shard path")
        }
        return Prepared(inputs, files: inputs.all("input"))
    }

    public static func execute(_ inputs: StageInputs, parameters p: Parameters, stage: StageContext) throws -> Summary {
        let prefix = stage.directory.appendingPathComponent(prefix).path
        var files = inputs.all("input").map(\.path), counts: [Int] = []
        var temporary: [URL] = []
        defer { for url in temporary { try? FileManager.default.removeItem(at: url) } }
        for (index, path) in inputs.all("records").enumerated() {
            let url = URL(fileURLWithPath: prefix + ".corpus-\(index).txt")
            counts.append(try TrainingCorpus.writeShardTexts(from: path, to: url))
            stage.log("read \(counts.last!) texts from \(path.path)")
            temporary.append(url)
            files.append(url.path)
        }
        var options = TokenizerTrainingOptions()
        options.modelType = p.modelType
        options.vocabSize = p.vocabSize
        options.byteFallback = p.byteFallback
        options.splitDigits = p.splitDigits
        options.seed = p.seed
        if !p.specials.isEmpty { options.userDefinedSymbols = p.specials }
        let model = try TokenizerTrainer.train(inputFiles: files, modelPrefix: prefix, options: options)
        for url in temporary { try? FileManager.default.removeItem(at: url) }
        try stage.recordWrittenFiles()
        return Summary(pieces: try Tokenizer(modelFile: model).vocabSize, recordTexts: counts)
    }
}
