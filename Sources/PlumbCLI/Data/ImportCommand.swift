// `plumb import FILES... --out STAGE_DIR`: import preference, annotation and demonstration data.
import ArgumentParser
import Foundation
import PlumbData

/// `--format`: auto-detection or one named format.
enum ImportFormatChoice: ExpressibleByArgument, Equatable {
    case auto
    case format(ImportFormat)

    init?(argument: String) {
        if argument == "auto" { self = .auto } else if let format = ImportFormat(rawValue: argument) { self = .format(format) } else { return nil }
    }

    static var allValueStrings: [String] { ["auto"] + ImportFormat.allCases.map(\.rawValue) }

    var format: ImportFormat? {
        if case .format(let format) = self { return format }
        return nil
    }
}

extension PreferenceDimension: ExpressibleByArgument {}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import preference, annotation and demonstration data into record shards.",
        discussion: "Inputs may be plain, .gz or .zst; JSON, JSON Lines or CSV. Writes one shard set per record kind and split, a quarantine shard and a manifest."
    )

    @Argument(help: "Input files.")
    var files: [String]
    @Option(help: "Input format (auto detects and says why).")
    var format: ImportFormatChoice = .auto
    @Option(help: "Stage directory to write (RUNS/RUN/STAGE).")
    var out: String
    @Option(help: "Column mapping field=column,...: for CSV pairs or demonstrations (prompt, chosen, rejected, response, system, dimension, strength, margin, annotator, id, chosen_safe, rejected_safe); for any other layout each row's mapped fields are renamed before detection (e.g. label=thumb).")
    var columns: String?
    @Option(help: "OpenAssistant trees: keep only trees whose prompt is in this language (en, de, ...).")
    var lang: String?
    @Option(help: "Ratings (HelpSteer): the weighted sum of attributes that orders one prompt's responses into pairs, attribute=weight,... (default helpfulness=1).")
    var ratingWeights: String?
    @Option(help: "Label Studio labelling config (XML); default: <stem>-config.xml or config.xml beside the input.")
    var labelConfig: String?
    @Option(help: "File holding the texts that annotations refer to (Label Studio tasks.json, Argilla study generations).")
    var texts: String?
    @Flag(help: "Keep tie votes (arena ties, A/B ties) as tie records in ties-<split> instead of setting them aside.")
    var keepTies = false
    @Option(help: "A/B files with per-aspect votes: the aspect that decides chosen/rejected (e.g. factuality; default: the overall vote).")
    var aspect: String?
    @Option(help: "Dimension (helpfulness or safety) for sources that do not say.")
    var dimension: PreferenceDimension = .helpfulness
    @Option(help: "Fraction of prompts in the validation split.")
    var validationFraction = 0.05
    @Option(help: "Fraction of prompts in the test split.")
    var testFraction = 0.05
    @Option(help: "Salt of the prompt hash that assigns splits (another salt, another split; default: none).")
    var splitSalt: String?
    @Option(help: "Longest response kept, in characters.")
    var maxResponseCharacters = 32_000
    @Flag(help: "Skip near-duplicate detection (exact duplicates are still dropped).")
    var noNearDuplicates = false
    @Option(help: "Longest row (JSON line, array element, CSV record) in bytes; a longer one is skipped and quarantined as too_long.")
    var maxLineBytes = InputLimits().maxLineBytes
    @Option(help: "Most bytes one input file may decompress to; more is an error naming the file.")
    var maxDecompressedBytes = InputLimits().maxDecompressedBytes
    @Option(help: "Also write the accepted comparisons as TRL JSON Lines to this file.")
    var exportTrl: String?

    func validate() throws {
        guard maxLineBytes > 0, maxDecompressedBytes > 0 else {
            throw ValidationError("--max-line-bytes and --max-decompressed-bytes must be positive")
        }
    }

    func run() throws {
        var options = ImportOptions()
        options.columnMapping = try parseMapping(columns)
        if let labelConfig { options.labelConfig = try String(contentsOfFile: labelConfig, encoding: .utf8) }
        options.textsFile = texts
        options.defaultDimension = dimension
        options.keepTies = keepTies
        options.aspect = aspect
        options.language = lang
        if let ratingWeights {
            options.ratingWeights = RatingWeights(try parseMapping(ratingWeights).mapValues { text in
                guard let weight = Double(text) else { throw ValidationError("--rating-weights: '\(text)' is not a number") }
                return weight
            })
        }
        options.splits = SplitFractions(validation: validationFraction, test: testFraction, salt: splitSalt)
        options.validation.maxResponseCharacters = maxResponseCharacters
        options.deduplication.nearDuplicates = !noNearDuplicates
        options.input.maxLineBytes = maxLineBytes
        options.input.maxDecompressedBytes = maxDecompressedBytes
        // Records stream from the inputs to the shards (and the TRL file) as they are accepted.
        let stage = try ImportStage.Writer(stageDirectory: URL(fileURLWithPath: out),
                                           config: ImportStage.Config(format: format.format, options: options),
                                           inputs: files.map { URL(fileURLWithPath: $0) })
        let sources: [SourceCounts]
        var trl: TRLExport.Sink?
        do {
            trl = try exportTrl.map { try TRLExport.Sink(path: $0, next: stage) }
            sources = try Importer(options: options).importFiles(files, format: format.format, into: trl ?? stage)
            try trl?.finish()
        } catch {
            stage.fail(error)
            throw error
        }
        let manifest = try stage.complete(sources: sources)
        for source in sources { print(ImportReport.describe(source)) }
        for output in manifest.outputs { print("wrote \(output.name): \(output.records) records") }
        if let exportTrl, let trl { print("wrote \(trl.comparisons) comparisons to \(exportTrl) (TRL format)") }
    }

    private func parseMapping(_ text: String?) throws -> [String: String] {
        guard let text else { return [:] }
        var mapping: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--columns: expected field=column, found '\(pair)'") }
            mapping[parts[0]] = parts[1]
        }
        return mapping
    }
}

/// Human-readable lines for one source's counts.
enum ImportReport {
    static func describe(_ source: SourceCounts) -> String {
        var lines = ["\(source.file): \(source.format.rawValue) (\(source.detection))"]
        if !source.columns.isEmpty {
            lines.append("  columns: " + source.columns.sorted { $0.key < $1.key }.map { "\($0.key) <- \($0.value)" }.joined(separator: ", "))
        }
        let reasons = source.quarantined.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("  rows \(source.rowsRead); records read \(source.recordsRead) = accepted \(source.accepted) + quarantined \(source.quarantinedTotal)"
            + " + duplicates \(source.exactDuplicates) exact, \(source.nearDuplicates) near + ties \(source.tiesTotal)"
            + " + aggregated \(source.aggregated)")
        if !source.agreement.isEmpty {
            lines.append("  pairs judged several times: " + source.agreement.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !source.skipped.isEmpty {
            lines.append("  left out by rule: " + source.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !source.ties.isEmpty {
            lines.append("  ties set aside: " + source.ties.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !reasons.isEmpty { lines.append("  quarantined: \(reasons)") }
        let kinds = source.acceptedByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("  accepted: \(kinds.isEmpty ? "none" : kinds)")
        if !source.derived.isEmpty {
            lines.append("  derived: " + source.derived.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
