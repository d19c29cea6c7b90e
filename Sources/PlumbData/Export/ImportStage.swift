import Foundation
import PlumbStore

/// Writes an import's result as a stage directory through PlumbStore:
/// - one shard set per record kind and split: `comparisons-train`, `prompts-test`, ... (kinds:
///   prompts, demonstrations, comparisons, rankings, edits, labelled-responses, feedbacks, ratings), derived records
///   included; tie records (kept with `keepTies`) in `ties-<split>`, apart from the comparisons;
/// - `quarantine`: every set-aside row or record (`quarantine/1`), with reason, field, file and line;
/// - `sources`: one `import-source/1` record per input file with its counts;
/// - manifest metrics: totals (`records_read`, `accepted`, `quarantined`, `duplicates_exact`,
///   `duplicates_near`, `ties`, `derived`) and `quarantined.<reason>`.
public enum ImportStage {
    /// The resolved configuration recorded in the manifest.
    public struct Config: Codable, Sendable {
        public var format: String
        public var columnMapping: [String: String]
        public var defaultDimension: PreferenceDimension
        public var keepTies: Bool
        public var aspect: String?
        public var language: String?
        public var ratingWeights: RatingWeights
        public var validation: ValidationLimits
        public var input: InputLimits
        public var deduplication: DeduplicationSettings
        public var splits: SplitFractions

        public init(format: ImportFormat?, options: ImportOptions) {
            self.format = format?.rawValue ?? "auto"
            columnMapping = options.columnMapping
            defaultDimension = options.defaultDimension
            keepTies = options.keepTies
            aspect = options.aspect
            language = options.language
            ratingWeights = options.ratingWeights
            validation = options.validation
            input = options.input
            deduplication = options.deduplication
            splits = options.splits
        }
    }

    /// One input file's counts as a record of the `sources` output.
    struct SourceRecord: Encodable {
        var schema = "import-source/1"
        var counts: SourceCounts
    }

    /// Writes `result` into `stageDirectory` (`<runs root>/<run>/<stage>`), returning the manifest.
    @discardableResult
    public static func write(_ result: ImportResult, to stageDirectory: URL, config: Config, inputs: [URL]) throws -> StageManifest {
        let writer = try Writer(stageDirectory: stageDirectory, config: config, inputs: inputs)
        do {
            for record in result.records { try writer.accept(record) }
            for entry in result.quarantine { try writer.quarantine(entry) }
        } catch {
            writer.fail(error)
            throw error
        }
        return try writer.complete(sources: result.sources)
    }

    /// An import stage written as the import runs: records go to their shard set as they are
    /// accepted (`Importer.importFiles(_:format:into:)`), so nothing is held in memory. The stage is
    /// begun (and the run locked) when the writer is made; `complete` adds the outputs in a fixed
    /// order, the sources and the metrics; `fail` marks it failed.
    public final class Writer: ImportSink {
        private let stage: StageWriter
        private var shards: [String: ShardWriter] = [:]
        private var derived = 0

        public init(stageDirectory: URL, config: Config, inputs: [URL]) throws {
            let runDirectory = stageDirectory.deletingLastPathComponent()
            stage = try StageWriter.begin(runsRoot: runDirectory.deletingLastPathComponent(), run: runDirectory.lastPathComponent,
                                          stage: stageDirectory.lastPathComponent, kind: "import", config: config, inputs: inputs,
                                          replaceComplete: true)
        }

        /// Writes into a stage another caller began (and finishes: the import stage kind's `StageRun`).
        public init(writer: StageWriter) { stage = writer }

        /// Records made from other records (a ranking's pairs), so far.
        public var derivedRecords: Int { derived }

        public func accept(_ record: ImportedRecord) throws {
            let tie = Importer.countedKind(record.record) == "tie"
            try shard(tie ? "ties-\(record.split.rawValue)" : ImportStage.outputName(record.record.kind, record.split)).append(record.record)
            if record.derived { derived += 1 }
        }

        public func quarantine(_ entry: QuarantineEntry) throws { try shard("quarantine").append(entry) }

        /// Finishes every shard set and completes the stage.
        public func complete(sources: [SourceCounts]) throws -> StageManifest {
            try stage.finish {
                try addOutputs(sources: sources)
                for (name, value) in ImportStage.metrics(sources, derived: derived) { stage.setMetric(name, value) }
            }
            return stage.manifest  // as completed
        }

        /// Finishes every shard set and adds the outputs in a fixed order, then the sources; the
        /// stage is not completed.
        public func addOutputs(sources: [SourceCounts]) throws {
            for kind in [RecordKind.prompt, .demonstration, .comparison, .ranking, .edit, .labelledResponse, .feedback, .rating] {
                for split in Split.allCases {
                    // Tie records (kept with --keep-ties) go to their own set beside the comparisons.
                    for name in [ImportStage.outputName(kind, split)] + (kind == .comparison ? ["ties-\(split.rawValue)"] : []) {
                        if let writer = shards[name] { try stage.addOutput(name: name, files: try writer.finish()) }
                    }
                }
            }
            try stage.addOutput(name: "quarantine", files: try shard("quarantine").finish())
            let sourcesWriter = try stage.shardWriter(name: "sources")
            for counts in sources { try sourcesWriter.append(SourceRecord(counts: counts)) }
            try stage.addOutput(name: "sources", files: try sourcesWriter.finish())
        }

        public func fail(_ error: Error) { stage.fail(error) }

        private func shard(_ name: String) throws -> ShardWriter {
            if let writer = shards[name] { return writer }
            let writer = try stage.shardWriter(name: name)
            shards[name] = writer
            return writer
        }
    }

    static func outputName(_ kind: RecordKind, _ split: Split) -> String { "\(kind.rawValue)s-\(split.rawValue)" }

    /// The manifest's metrics: totals over the sources and quarantined counts by reason.
    public static func metrics(_ sources: [SourceCounts], derived: Int) -> [String: Double] {
        var metrics: [String: Double] = [:]
        metrics["records_read"] = Double(sources.reduce(0) { $0 + $1.recordsRead })
        metrics["accepted"] = Double(sources.reduce(0) { $0 + $1.accepted })
        metrics["quarantined"] = Double(sources.reduce(0) { $0 + $1.quarantinedTotal })
        metrics["duplicates_exact"] = Double(sources.reduce(0) { $0 + $1.exactDuplicates })
        metrics["duplicates_near"] = Double(sources.reduce(0) { $0 + $1.nearDuplicates })
        metrics["ties"] = Double(sources.reduce(0) { $0 + $1.tiesTotal })
        metrics["aggregated"] = Double(sources.reduce(0) { $0 + $1.aggregated })
        metrics["derived"] = Double(derived)
        for source in sources {
            for (reason, count) in source.quarantined { metrics["quarantined.\(reason)", default: 0] += Double(count) }
        }
        return metrics
    }
}
