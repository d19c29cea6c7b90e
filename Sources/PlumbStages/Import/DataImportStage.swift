// `plumb import FILE... --out RUNS/RUN/STAGE` as a stage: preference, annotation and demonstration
// data read by PlumbData's importers and written as one shard set per record kind and split, a
// quarantine shard and a `sources` shard with each file's counts (`ImportStage.Writer`). A row or
// record the importers set aside is quarantined and counted, never an error; a damaged file is.
//
// The files are named in the records (provenance, quarantine, counts) by `StageLocation.recordedPath`:
// relative to the run's directory when inside the runs root, so a moved runs root writes the same
// bytes, and the importers read them from that directory (`ImportOptions.directory`), not from the
// process's working directory.
import Foundation
import PlumbData
import PlumbStore

extension StageKind {
    public static let dataImport: StageKind = "import"
}

public enum DataImportStage: Stage {
    public static let kind = StageKind.dataImport
    public static let abstract = "Import preference, annotation and demonstration data into record shards (plain, .gz or .zst; JSON, JSON Lines or CSV)."
    /// An import is cheap to redo: a rerun replaces whatever the directory holds.
    public static let rerun = StageRerun.replace
    public static let slots = [
        InputSlot("file", .oneOrMore, "Input file (given without a flag on the command line).", positional: true),
        InputSlot("label-config", .optional, "Label Studio labelling config (XML); default: <stem>-config.xml or config.xml beside the input."),
        InputSlot("texts", .optional, "File holding the texts annotations refer to (Label Studio tasks.json, Argilla study generations)."),
    ]

    public struct Parameters: StageParameters, Equatable {
        /// `auto` (detects and says why) or one `ImportFormat` name.
        public var format = "auto"
        /// `field=column,...`: for CSV pairs or demonstrations the columns of each field; for any other
        /// layout each row's mapped fields are renamed before detection (`label=thumb`).
        public var columns: String?
        /// OpenAssistant trees: keep only trees whose prompt is in this language (`en`, `de`, ...).
        public var lang: String?
        /// Ratings (HelpSteer): `attribute=weight,...`, the weighted sum that orders one prompt's responses (default helpfulness=1).
        public var ratingWeights: String?
        /// Keep tie votes as tie records in `ties-<split>` instead of setting them aside.
        public var keepTies = false
        /// A/B files with per-aspect votes: the aspect that decides chosen / rejected (default: the overall vote).
        public var aspect: String?
        /// The dimension of sources that do not say.
        public var dimension = PreferenceDimension.helpfulness
        public var validationFraction = 0.05
        public var testFraction = 0.05
        /// Salt of the prompt hash that assigns splits (another salt, another split).
        public var splitSalt: String?
        /// Longest response kept, in characters.
        public var maxResponseCharacters = 32_000
        /// Skip near-duplicate detection (exact duplicates are still dropped).
        public var noNearDuplicates = false
        /// Longest row in bytes; a longer one is quarantined as too_long.
        public var maxLineBytes = InputLimits().maxLineBytes
        /// Most bytes one input file may decompress to; more is an error naming the file.
        public var maxDecompressedBytes = InputLimits().maxDecompressedBytes
        /// Also write the accepted comparisons as TRL JSON Lines to this file (relative: to the run's directory).
        public var exportTrl: String?

        public init() {}

        public func validate() throws {
            guard format == "auto" || ImportFormat(rawValue: format) != nil else {
                throw StageParameterError("format", "\"\(format)\" is not a format (formats: auto, \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard maxLineBytes > 0 else { throw StageParameterError("max-line-bytes", "must be positive") }
            guard maxDecompressedBytes > 0 else { throw StageParameterError("max-decompressed-bytes", "must be positive") }
            for (key, value) in [("validation-fraction", validationFraction), ("test-fraction", testFraction)] where !(0...1).contains(value) {
                throw StageParameterError(key, "must be between 0 and 1")
            }
            _ = try importOptions()
        }

        /// The importers' options (the input files' directory and the labelling config are the stage's to add).
        func importOptions() throws -> ImportOptions {
            var options = ImportOptions()
            options.columnMapping = try Self.mapping(columns, key: "columns")
            options.defaultDimension = dimension
            options.keepTies = keepTies
            options.aspect = aspect
            options.language = lang
            if let ratingWeights {
                options.ratingWeights = RatingWeights(try Self.mapping(ratingWeights, key: "rating-weights").mapValues { text in
                    guard let weight = Double(text) else { throw StageParameterError("rating-weights", "'\(text)' is not a number") }
                    return weight
                })
            }
            options.splits = SplitFractions(validation: validationFraction, test: testFraction, salt: splitSalt)
            options.validation.maxResponseCharacters = maxResponseCharacters
            options.deduplication.nearDuplicates = !noNearDuplicates
            options.input.maxLineBytes = maxLineBytes
            options.input.maxDecompressedBytes = maxDecompressedBytes
            return options
        }

        /// `a=b,c=d` as a dictionary.
        static func mapping(_ text: String?, key: String) throws -> [String: String] {
            var mapping: [String: String] = [:]
            for pair in (text ?? "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw StageParameterError(key, "expected field=column, found '\(pair)'") }
                mapping[parts[0]] = parts[1]
            }
            return mapping
        }
    }

    public struct Summary: StageSummary {
        /// Each input file's counts, in order.
        public var sources: [SourceCounts]
        /// Records made from other records (a ranking's pairs).
        public var derived: Int
        /// Comparisons written to `export-trl`, when given.
        public var trlComparisons: Int?
        public var metrics: [String: Double] { ImportStage.metrics(sources, derived: derived) }
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<StageInputs> {
        let files = inputs.all("file") + [inputs.optional("label-config"), inputs.optional("texts")].compactMap { $0 }
        for file in files where !FileManager.default.fileExists(atPath: file.path) {
            throw StageError("\(file.path): no such file")
        }
        return Prepared(inputs, files: files)
    }

    public static func execute(_ inputs: StageInputs, parameters p: Parameters, stage: StageContext) throws -> Summary {
        let location = stage.location
        var options = try p.importOptions()
        options.directory = location.runDirectory.path
        options.textsFile = inputs.optional("texts").map(location.recordedPath)
        if let config = inputs.optional("label-config") { options.labelConfig = try String(contentsOf: config, encoding: .utf8) }
        let sink = ImportStage.Writer(writer: stage.writer)
        // Records stream from the inputs to the shards (and the TRL file) as they are accepted.
        let trl = try p.exportTrl.map { try TRLExport.Sink(path: options.location($0), next: sink) }
        let sources = try Importer(options: options).importFiles(inputs.all("file").map(location.recordedPath),
                                                                 format: ImportFormat(rawValue: p.format), into: trl ?? sink)
        try trl?.finish()
        try sink.addOutputs(sources: sources)
        for source in sources { stage.log(ImportReport.describe(source)) }
        if let trl, let path = p.exportTrl { stage.log("wrote \(trl.comparisons) comparisons to \(path) (TRL format)") }
        return Summary(sources: sources, derived: sink.derivedRecords, trlComparisons: trl?.comparisons)
    }
}
