import Foundation

/// Where an import's records and quarantine entries go as they are produced, so that an import of
/// any size need not hold them: `ImportStage.Writer` writes them to shards, `ImportCollector`
/// keeps them (tests, small inputs).
public protocol ImportSink: AnyObject {
    func accept(_ record: ImportedRecord) throws
    func quarantine(_ entry: QuarantineEntry) throws
}

/// Keeps everything in an `ImportResult`.
public final class ImportCollector: ImportSink {
    public private(set) var result = ImportResult()

    public init() {}

    public func accept(_ record: ImportedRecord) { result.records.append(record) }
    public func quarantine(_ entry: QuarantineEntry) { result.quarantine.append(entry) }
    func setSources(_ sources: [SourceCounts]) { result.sources = sources }
}
