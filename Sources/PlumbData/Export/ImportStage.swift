import Foundation
import PlumbStore

/// Writes an import's result as a stage directory through PlumbStore:
/// - one shard set per record kind and split: `comparisons-train`, `prompts-test`, ... (kinds:
///   prompts, demonstrations, comparisons, rankings, edits), derived records included;
/// - `quarantine`: every set-aside row or record (`quarantine/1`), with reason, field, file and line;
/// - `sources`: one `import-source/1` record per input file with its counts;
/// - manifest metrics: totals (`records_read`, `accepted`, `quarantined`, `duplicates_exact`,
///   `duplicates_near`, `derived`) and `quarantined.<reason>`.
public enum ImportStage {
    /// The resolved configuration recorded in the manifest.
    public struct Config: Codable, Sendable {
        public var format: String
        public var columnMapping: [String: String]
        public var defaultDimension: PreferenceDimension
        public var validation: ValidationLimits
        public var input: InputLimits
        public var deduplication: DeduplicationSettings
        public var splits: SplitFractions

        public init(format: ImportFormat?, options: ImportOptions) {
            self.format = format?.rawValue ?? "auto"
            columnMapping = options.columnMapping
            defaultDimension = options.defaultDimension
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
        let stage = stageDirectory.lastPathComponent
        let runDirectory = stageDirectory.deletingLastPathComponent()
        let writer = try StageWriter.begin(runsRoot: runDirectory.deletingLastPathComponent(), run: runDirectory.lastPathComponent,
                                           stage: stage, kind: "import", config: config, inputs: inputs, replaceComplete: true)
        try writer.finish {
            for kind in [RecordKind.prompt, .demonstration, .comparison, .ranking, .edit] {
                for split in Split.allCases {
                    let records = result.records.filter { $0.record.kind == kind && $0.split == split }
                    guard !records.isEmpty else { continue }
                    try writeOutput(name: "\(kind.rawValue)s-\(split.rawValue)", records.map(\.record), writer)
                }
            }
            try writeOutput(name: "quarantine", result.quarantine, writer)
            try writeOutput(name: "sources", result.sources.map { SourceRecord(counts: $0) }, writer)
            for (name, value) in metrics(result) { writer.setMetric(name, value) }
        }
        return writer.manifest  // as completed
    }

    private static func writeOutput<T: Encodable>(name: String, _ records: [T], _ stage: StageWriter) throws {
        let shards = try stage.shardWriter(name: name)
        for record in records { try shards.append(record) }
        try stage.addOutput(name: name, files: try shards.finish())
    }

    static func metrics(_ result: ImportResult) -> [String: Double] {
        var metrics: [String: Double] = [:]
        let sources = result.sources
        metrics["records_read"] = Double(sources.reduce(0) { $0 + $1.recordsRead })
        metrics["accepted"] = Double(sources.reduce(0) { $0 + $1.accepted })
        metrics["quarantined"] = Double(sources.reduce(0) { $0 + $1.quarantinedTotal })
        metrics["duplicates_exact"] = Double(sources.reduce(0) { $0 + $1.exactDuplicates })
        metrics["duplicates_near"] = Double(sources.reduce(0) { $0 + $1.nearDuplicates })
        metrics["derived"] = Double(result.records.filter(\.derived).count)
        for source in sources {
            for (reason, count) in source.quarantined { metrics["quarantined.\(reason)", default: 0] += Double(count) }
        }
        return metrics
    }
}
