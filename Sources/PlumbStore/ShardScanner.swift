// Reads a whole shard to measure it: records, raw and compressed bytes, frames, schemas and the
// SHA-256 of the file, checking every frame checksum and every record's "schema" on the way.
import Foundation

public struct ShardScan: Equatable, Sendable {
    public var file: String
    public var sha256: String
    public var records: Int
    public var rawBytes: Int
    public var compressedBytes: Int
    public var frames: Int
    public var schemas: [String: Int]
    /// Records without a valid "schema" (their first few are listed in `recordProblems`).
    public var recordsWithoutSchema: Int
    public var recordProblems: [String]
}

public enum ShardScanner {
    /// Scans `url`. Throws `StoreError` (naming file, frame, offset, record) if the zstd data is damaged.
    public static func scan(_ url: URL, maxRecordBytes: Int = 4 << 20,
                            decoding: ShardReader.Decoding = .frames(threads: ProcessInfo.processInfo.activeProcessorCount)) throws -> ShardScan {
        let lines = try ShardLineReader(url: url, maxRecordBytes: maxRecordBytes, decoding: decoding, hashing: true)
        var schemas: [String: Int] = [:]
        var withoutSchema = 0
        var problems: [String] = []
        while let line = try lines.nextLine() {
            switch RecordSchema.find(in: line) {
            case .found(let schema): schemas[schema, default: 0] += 1
            case .missing, .invalid:
                withoutSchema += 1
                if problems.count < 5 {
                    problems.append("record \(lines.records): \(RecordSchema.find(in: line))")
                }
            }
        }
        return ShardScan(file: url.path, sha256: lines.compressedSHA256() ?? "", records: lines.records,
                         rawBytes: lines.rawBytes, compressedBytes: lines.compressedBytesRead,
                         frames: lines.framesCompleted, schemas: schemas,
                         recordsWithoutSchema: withoutSchema, recordProblems: problems)
    }
}
