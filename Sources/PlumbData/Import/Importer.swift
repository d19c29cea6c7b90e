import Foundation
import PlumbStore

/// Imports files into canonical records: read (plain, .gz, .zst), detect the format, convert each
/// row, validate, drop duplicates, derive pairs from rankings and edits, assign splits, count.
public struct Importer {
    public var options: ImportOptions

    public init(options: ImportOptions = ImportOptions()) {
        self.options = options
    }

    /// One input row (or a group's row) converted: its records, the problems that stopped it, and
    /// the replies it left out by rule (tree formats).
    struct Converted {
        var row: InputRow
        var records: [Record]
        var problems: [RowProblem]
        var skipped: [String: Int] = [:]
    }

    /// What a row converter returns.
    struct RowOutput {
        var records: [Record]
        var problems: [RowProblem] = []
        var skipped: [String: Int] = [:]
    }

    /// A format's conversion: row by row, or by runs of adjacent rows (a flat message table's
    /// trees), each run converted at once and held only while it lasts. A row's key starts a new
    /// run when it differs from the current run's; a nil key continues the current run.
    enum Converter {
        case rows((JSONValue, Int, RowContext) throws -> RowOutput)
        /// Rows handed over as bytes, for a converter that walks a huge row itself (OpenAssistant
        /// trees) and hands each record over as it is made (the closure), not all at the end.
        case rawRows((ShallowJSON, RowContext, (Record) throws -> Void) throws -> RowOutput)
        case groups(key: (JSONValue) -> String?, convert: ([InputRow]) -> [Converted])
    }

    /// Imports every file in order and keeps the result in memory.
    public func importFiles(_ paths: [String], format: ImportFormat? = nil) throws -> ImportResult {
        let collector = ImportCollector()
        collector.setSources(try importFiles(paths, format: format, into: collector))
        return collector.result
    }

    /// Imports every file in order, reading each row by row and handing each record to `sink` as it
    /// is accepted; returns each file's counts. De-duplication spans all files: the first occurrence
    /// is kept. Repeated judgements of a pair are aggregated within each file.
    public func importFiles(_ paths: [String], format: ImportFormat? = nil, into sink: ImportSink) throws -> [SourceCounts] {
        let deduplicator = Shared(Deduplicator(settings: options.deduplication))
        return try paths.map { try importFile($0, format: format, deduplicator: deduplicator, sink: sink) }
    }

    /// The per-file state of the second (or only) pass, with the import's de-duplicator (a class:
    /// a raw row's records are processed from inside its converter's walk).
    private final class FileState {
        var counts: SourceCounts
        let deduplicator: Shared<Deduplicator>
        var fit = FormatFit()
        var votes: VoteAggregator?
        /// Accepted ratings of the current prompt, paired when the prompt changes.
        var ratings: [Rating] = []

        init(counts: SourceCounts, deduplicator: Shared<Deduplicator>) {
            self.counts = counts
            self.deduplicator = deduplicator
        }
    }

    /// One value shared by reference (the de-duplicator, across an import's files).
    private final class Shared<Value> {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    /// An error of the sink met while a converter was walking a row: not the row's problem.
    private struct SinkFailure: Error { var error: Error }

    private func importFile(_ path: String, format: ImportFormat?, deduplicator: Shared<Deduplicator>, sink: ImportSink) throws -> SourceCounts {
        var (detection, firstRow) = try format.map { (Detection(format: $0, reason: "given with --format"), nil) }
            ?? FormatDetector.detect(path, options: options)
        let csv = format == .csv
        if firstRow == nil {   // a forced format: the first row still names the columns
            let probe = try openFile(path, csv: csv, format: detection.format)
            probe.boundedAbove = 1 << 20
            firstRow = try probe.next()
        }
        let file = try openFile(path, csv: csv, format: detection.format)
        let (converter, note, columns) = try makeConverter(detection.format, file: file, firstRow: firstRow)
        if case .rawRows = converter { file.decodesRows = false }
        if let note { detection.reason += "; " + note }
        let state = FileState(counts: SourceCounts(file: path, format: detection.format, detection: detection.reason, columns: columns),
                              deduplicator: deduplicator)
        if Importer.aggregatesVotes(detection.format), case .rows(let convert) = converter {
            state.votes = try tallyVotes(path, csv: csv, format: detection.format, convert)
        }
        var pending: [InputRow] = []
        var pendingKey: String?
        while let row = try file.next() {
            switch converter {
            case .rows(let convert):
                try process(self.convert(row, index: file.rowsRead - 1, convert), state, sink)
            case .rawRows(let convert):
                let item = try convertRaw(row, convert) { record in
                    do { try process(Converted(row: row, records: [record], problems: []), state, sink) } catch { throw SinkFailure(error: error) }
                }
                try process(item, state, sink)
            case .groups(let key, let convert):
                guard let value = row.value else {
                    try process(Converted(row: row, records: [], problems: row.problem.map { [$0] } ?? []), state, sink)
                    continue
                }
                let rowKey = key(value)
                if let rowKey, rowKey != pendingKey, !pending.isEmpty {
                    for item in convert(pending) { try process(item, state, sink) }
                    pending = []
                }
                if let rowKey { pendingKey = rowKey }
                pending.append(row)
            }
        }
        if case .groups(_, let convert) = converter, !pending.isEmpty {
            for item in convert(pending) { try process(item, state, sink) }
        }
        try flushRatings(state, sink)
        try state.fit.check(file: path, detection: detection)
        state.counts.rowsRead = file.rowsRead
        return state.counts
    }

    /// The input file, with `--columns` applied to every row of the formats that read named fields
    /// (CSV's own mapping is applied by its converter).
    private func openFile(_ path: String, csv: Bool, format: ImportFormat) throws -> InputFile {
        let file = try InputFile(path, csv: csv, limits: options.input, readFrom: options.location(path))
        if format != .csv { file.rename = options.columnMapping }
        return file
    }

    /// Formats whose rows are judgements of a pair, which several annotators may repeat.
    static func aggregatesVotes(_ format: ImportFormat) -> Bool {
        [.arena, .pairwiseAspects, .pandaLM, .autoJ].contains(format)
    }

    /// Pass 1 over a vote file: every valid comparison's vote, by pair.
    private func tallyVotes(_ path: String, csv: Bool, format: ImportFormat,
                            _ convert: @escaping (JSONValue, Int, RowContext) throws -> RowOutput) throws -> VoteAggregator {
        var votes = VoteAggregator()
        let file = try openFile(path, csv: csv, format: format)
        while let row = try file.next() {
            for case .comparison(let c) in self.convert(row, index: file.rowsRead - 1, convert).records
            where Validator.problem(.comparison(c), limits: options.validation) == nil {
                votes.count(c)
            }
        }
        return votes
    }

    /// Validates, aggregates, sets ties aside, de-duplicates, accepts and derives one row's records.
    private func process(_ item: Converted, _ state: FileState, _ sink: ImportSink) throws {
        state.fit.observe(item.records.isEmpty, item.problems, line: item.row.source.line)
        for (reason, count) in item.skipped { state.counts.skipped[reason, default: 0] += count }
        for problem in item.problems {
            try quarantine(problem, row: item.row, source: item.row.source, counts: &state.counts, sink: sink)
        }
        for var record in item.records {
            if let problem = Validator.problem(record, limits: options.validation) {
                try quarantine(problem, row: item.row, source: record.source, counts: &state.counts, sink: sink)
                continue
            }
            state.counts.recordsRead += 1
            if case .comparison(let c) = record, state.votes != nil {
                switch state.votes!.resolve(c) {
                case .single: break
                case .aggregated(let aggregate):
                    record = .comparison(aggregate)
                    if let agreement = VoteAggregator.agreement(aggregate) { state.counts.agreement[agreement, default: 0] += 1 }
                case .folded: state.counts.aggregated += 1; continue
                }
            }
            if case .comparison(let c) = record, let tie = c.details.tie, !options.keepTies {
                state.counts.ties[tie.rawValue, default: 0] += 1
                continue
            }
            switch try state.deduplicator.value.check(record) {
            case .exact?: state.counts.exactDuplicates += 1; continue
            case .near?: state.counts.nearDuplicates += 1; continue
            case nil: break
            }
            state.counts.accepted += 1
            state.counts.acceptedByKind[Importer.countedKind(record), default: 0] += 1
            try sink.accept(ImportedRecord(record: record, split: options.splits.split(for: record.prompt), derived: false))
            for derived in DerivedRecords.derived(from: record) { try accept(derived: derived, &state.counts, sink) }
            if case .rating(let rating) = record {
                if let last = state.ratings.last, Validator.normalise(last.prompt.text) != Validator.normalise(rating.prompt.text) {
                    try flushRatings(state, sink)
                }
                state.ratings.append(rating)
            }
        }
    }

    /// Pairs from the ratings of one prompt's responses (adjacent rows, as HelpSteer writes them).
    private func flushRatings(_ state: FileState, _ sink: ImportSink) throws {
        for pair in RatingPairs.comparisons(state.ratings, weights: options.ratingWeights) {
            try accept(derived: .comparison(pair), &state.counts, sink)
        }
        state.ratings = []
    }

    private func accept(derived: Record, _ counts: inout SourceCounts, _ sink: ImportSink) throws {
        counts.derived[derived.kind.rawValue, default: 0] += 1
        try sink.accept(ImportedRecord(record: derived, split: options.splits.split(for: derived.prompt), derived: true))
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

    /// A raw row converted; its records go to `emit` as they are made, the rest comes back. A
    /// problem that stops the row part-way leaves the records already emitted in place.
    private func convertRaw(_ row: InputRow, _ convert: (ShallowJSON, RowContext, (Record) throws -> Void) throws -> RowOutput,
                            emit: (Record) throws -> Void) throws -> Converted {
        guard let bytes = row.bytes else { return Converted(row: row, records: [], problems: row.problem.map { [$0] } ?? []) }
        do {
            let context = RowContext(source: row.source, options: options)
            let output = try withoutActuallyEscaping(emit) { try convert(ShallowJSON(bytes: bytes), context, $0) }
            return Converted(row: row, records: output.records, problems: output.problems, skipped: output.skipped)
        } catch let failure as SinkFailure {
            throw failure.error
        } catch let problem as RowProblem {
            return Converted(row: row, records: [], problems: [problem])
        } catch {
            return Converted(row: row, records: [], problems: [RowProblem(.invalidValue, "\(error)")])
        }
    }

    private func convert(_ row: InputRow, index: Int, _ convert: (JSONValue, Int, RowContext) throws -> RowOutput) -> Converted {
        if let problem = row.problem { return Converted(row: row, records: [], problems: [problem]) }
        let context = RowContext(source: row.source, options: options)
        do {
            let output = try convert(row.value!, index, context)
            return Converted(row: row, records: output.records, problems: output.problems, skipped: output.skipped)
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
}
