import Foundation
import PlumbStore

/// Imports files into canonical records: read (plain, .gz, .zst), detect the format, convert each
/// row, validate, drop duplicates, derive pairs from rankings and edits, assign splits, count.
public struct Importer {
    public var options: ImportOptions

    public init(options: ImportOptions = ImportOptions()) {
        self.options = options
    }

    /// One converted row: its records, or the problems that stopped it.
    private struct Converted {
        var row: InputRow
        var records: [Record]
        var problems: [RowProblem]
    }

    private typealias Converter = (JSONValue, Int, RowContext) throws -> ([Record], [RowProblem])

    /// Imports every file in order and keeps the result in memory.
    public func importFiles(_ paths: [String], format: ImportFormat? = nil) throws -> ImportResult {
        let collector = ImportCollector()
        collector.setSources(try importFiles(paths, format: format, into: collector))
        return collector.result
    }

    /// Imports every file in order, reading each row by row and handing each record to `sink` as it
    /// is accepted; returns each file's counts. De-duplication spans all files: the first occurrence
    /// is kept.
    public func importFiles(_ paths: [String], format: ImportFormat? = nil, into sink: ImportSink) throws -> [SourceCounts] {
        var sources: [SourceCounts] = []
        var deduplicator = Deduplicator(settings: options.deduplication)
        for path in paths {
            var (detection, firstRow) = try format.map { (Detection(format: $0, reason: "given with --format"), nil) }
                ?? FormatDetector.detect(path, options: options)
            if firstRow == nil {   // a forced format: the first row still names the columns
                firstRow = try InputFile(path, csv: format == .csv, limits: options.input).next()
            }
            let file = try InputFile(path, csv: format == .csv, limits: options.input)
            let (converter, note, columns) = try makeConverter(detection.format, file: file, firstRow: firstRow)
            if let note { detection.reason += "; " + note }
            var counts = SourceCounts(file: path, format: detection.format, detection: detection.reason, columns: columns)
            var fit = FormatFit()
            while let row = try file.next() {
                let item = convert(row, index: file.rowsRead - 1, converter)
                fit.observe(item.records.isEmpty, item.problems, line: row.source.line)
                for problem in item.problems {
                    try quarantine(problem, row: item.row, source: item.row.source, counts: &counts, sink: sink)
                }
                for record in item.records {
                    if let problem = Validator.problem(record, limits: options.validation) {
                        try quarantine(problem, row: item.row, source: record.source, counts: &counts, sink: sink)
                        continue
                    }
                    counts.recordsRead += 1
                    if case .comparison(let c) = record, let tie = c.details.tie, !options.keepTies {
                        counts.ties[tie.rawValue, default: 0] += 1
                        continue
                    }
                    switch try deduplicator.check(record) {
                    case .exact?: counts.exactDuplicates += 1; continue
                    case .near?: counts.nearDuplicates += 1; continue
                    case nil: break
                    }
                    counts.accepted += 1
                    counts.acceptedByKind[Importer.countedKind(record), default: 0] += 1
                    try sink.accept(ImportedRecord(record: record, split: options.splits.split(for: record.prompt), derived: false))
                    for derived in DerivedRecords.derived(from: record) {
                        counts.derived[derived.kind.rawValue, default: 0] += 1
                        try sink.accept(ImportedRecord(record: derived, split: options.splits.split(for: derived.prompt), derived: true))
                    }
                }
            }
            try fit.check(file: path, detection: detection)
            counts.rowsRead = file.rowsRead
            sources.append(counts)
        }
        return sources
    }

    /// The kind a record is counted under: its own, or `tie` for a tie record.
    static func countedKind(_ record: Record) -> String {
        if case .comparison(let c) = record, c.isTie { return "tie" }
        return record.kind.rawValue
    }

    private func quarantine(_ problem: RowProblem, row: InputRow, source: SourceRef, counts: inout SourceCounts, sink: ImportSink) throws {
        counts.recordsRead += 1
        counts.quarantined[problem.reason.rawValue, default: 0] += 1
        try sink.quarantine(QuarantineEntry(reason: problem.reason, field: problem.field, detail: problem.detail,
                                            source: source, excerpt: row.raw))
    }

    private func convert(_ row: InputRow, index: Int, _ converter: Converter) -> Converted {
        if let problem = row.problem { return Converted(row: row, records: [], problems: [problem]) }
        let context = RowContext(source: row.source, options: options)
        do {
            let (records, problems) = try converter(row.value!, index, context)
            return Converted(row: row, records: records, problems: problems)
        } catch let problem as RowProblem {
            return Converted(row: row, records: [], problems: [problem])
        } catch {
            return Converted(row: row, records: [], problems: [RowProblem(.invalidValue, "\(error)")])
        }
    }

    /// A file none of whose rows has the fields its format needs is not that format: an error
    /// naming the file, the first row's line and the field, rather than a quarantine of everything.
    /// Watched row by row, decided at the end of the file.
    private struct FormatFit {
        private static let structural: Set<QuarantineReason> = [.missingField, .wrongType]
        private var rows = 0
        private var anyRecords = false
        private var allStructural = true
        private var first: (line: Int, problem: RowProblem)?

        mutating func observe(_ noRecords: Bool, _ problems: [RowProblem], line: Int) {
            rows += 1
            anyRecords = anyRecords || !noRecords
            allStructural = allStructural && problems.allSatisfy { FormatFit.structural.contains($0.reason) }
            if first == nil, let problem = problems.first { first = (line, problem) }
        }

        func check(file: String, detection: Detection) throws {
            guard rows > 0, !anyRecords, allStructural, let first else { return }
            throw InputError(file: file, line: first.line, field: first.problem.field,
                             reason: "not \(detection.format.rawValue) data (\(detection.reason)): \(first.problem.detail)")
        }
    }

    /// The converter for `format`, a note for the detection line, and the columns it reads.
    private func makeConverter(_ format: ImportFormat, file: InputFile, firstRow: InputRow?) throws -> (Converter, String?, [String: String]) {
        let keys = file.container == .csv ? Set(file.csvHeader)
            : Set(firstRow?.value?.objectValue?.keys.map { $0 } ?? [])
        switch format {
        case .arena:
            return (rows(ArenaImporter.convert), nil, ArenaImporter.columns(keys))
        case .labelledResponses:
            let columns = LabelledResponseImporter.columns(keys)
            return (rows { try LabelledResponseImporter.convert($0, columns: columns, $1) }, nil, columns)
        case .pairwiseAspects:
            let columns = PairwiseAspectsImporter.columns(keys)
            if let aspect = options.aspect, columns["aspect:" + aspect] == nil {
                let known = columns.keys.filter { $0.hasPrefix("aspect:") }.map { String($0.dropFirst(7)) }.sorted()
                throw InputError(file: file.path, line: 1, field: aspect + "_preference",
                                 reason: "--aspect \(aspect): no column '\(aspect)_preference'; aspects in this file: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
            }
            return (rows { try PairwiseAspectsImporter.convert($0, columns: columns, $1) }, nil, columns)
        case .trl:
            return (rows(TRLImporter.convert), nil, TRLImporter.columns(keys))
        case .csv:
            let mapping = try CSVImporter.mapping(header: file.csvHeader, given: options.columnMapping, file: file.path)
            return (rows { try CSVImporter.convert($0, mapping: mapping, $1) }, nil, mapping)
        default:
            let (converter, note) = try makeFixedConverter(format, file: file, firstRow: firstRow)
            return (converter, note, ColumnNames.fixed(format))
        }
    }

    private func rows(_ convert: @escaping (RowFields, RowContext) throws -> [Record]) -> Converter {
        { value, _, context in (try convert(try RowFields(value), context), []) }
    }

    /// Converters for the formats whose field names are fixed.
    private func makeFixedConverter(_ format: ImportFormat, file: InputFile, firstRow: InputRow?) throws -> (Converter, String?) {
        switch format {
        case .hhRLHF: return (rows(HHRLHFImporter.convert), nil)
        case .pkuSafeRLHF: return (rows(PKUSafeRLHFImporter.convert), nil)
        case .ultraFeedback: return (rows(UltraFeedbackImporter.convertRaw), nil)
        case .ultraFeedbackBinarized: return (rows(UltraFeedbackImporter.convertBinarized), nil)
        case .shp: return (rows(SHPImporter.convert), nil)
        case .stackExchangePaired: return (rows(StackExchangePairedImporter.convert), nil)
        case .llamaFactory: return (rows(LlamaFactoryImporter.convert), nil)
        case .alpaca: return (rows(SFTImporter.convertAlpaca), nil)
        case .shareGPT: return (rows(SFTImporter.convertShareGPT), nil)
        case .messages: return (rows(SFTImporter.convertMessages), nil)
        case .argilla: return (rows(ArgillaImporter.convert), nil)
        case .argillaStudyResponses: return (rows(ArgillaStudyImporter.convertResponses), nil)
        case .argillaStudyRankings:
            let texts = try options.textsFile.map { try InputFile.objects($0, limits: options.input) { $0?.objectValue ?? [:] } }
            let note = options.textsFile.map { "texts from \($0)" }
            return ({ value, index, context in
                let row = texts.flatMap { index < $0.count ? $0[index] : nil }
                return (try ArgillaStudyImporter.convertRankings(value, texts: row, context), [])
            }, note)
        case .labelStudio:
            return try labelStudioConverter(file, firstRow: firstRow)
        case .trl, .csv, .arena, .labelledResponses, .pairwiseAspects:
            preconditionFailure("\(format.rawValue) is built by makeConverter")
        }
    }

    /// Task data (`tasks.json` or `--texts`) is loaded when the first row has no `data` of its own.
    private func labelStudioConverter(_ file: InputFile, firstRow: InputRow?) throws -> (Converter, String?) {
        let directory = (file.path as NSString).deletingLastPathComponent
        var notes: [String] = []
        var config: LabelingConfig?
        let stem = RowContext.stem(file.path)
        let configPaths = ["\(stem)-config.xml", "config.xml"].map { (directory as NSString).appendingPathComponent($0) }
        if let xml = options.labelConfig {
            config = try LabelingConfig(xml: xml, file: "--label-config")
            notes.append("labelling config from --label-config")
        } else if let configPath = configPaths.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            config = try LabelingConfig(xml: try String(contentsOfFile: configPath, encoding: .utf8), file: configPath)
            notes.append("labelling config \(configPath)")
        } else {
            notes.append("no labelling config: left/right bound to the two non-prompt text fields in name order")
        }
        var taskData: [[String: JSONValue]] = []
        let needsTasks = firstRow.map { $0.value?["data"] == nil } ?? true
        let tasksPath = options.textsFile ?? (directory as NSString).appendingPathComponent("tasks.json")
        if needsTasks, FileManager.default.fileExists(atPath: tasksPath) {
            taskData = try InputFile.objects(tasksPath, limits: options.input) { $0?["data"]?.objectValue ?? [:] }
            notes.append("task data from \(tasksPath)")
        }
        let importer = LabelStudioImporter(config: config, taskData: taskData)
        return ({ value, index, context in try importer.convert(try RowFields(value), rowIndex: index, context) }, notes.joined(separator: "; "))
    }
}
