// Errors of the artifact store. Each names the file and, where known, the zstd frame, the compressed
// byte offset and the record (1-based line) number, and says what to do next (STYLE.md habit 8).
import Foundation

public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// A system call failed on `path`.
    case io(path: String, operation: String, errno: Int32)
    /// The file has no bytes at all.
    case emptyFile(path: String)
    /// zstd rejected the bytes: not zstd, corrupted, or a frame content checksum mismatch.
    case corrupt(path: String, frame: Int, byteOffset: Int, record: Int, reason: String)
    /// The file ended inside a zstd frame.
    case truncated(path: String, frame: Int, byteOffset: Int, record: Int)
    /// The decompressed text ended without a final newline (a record cut in half).
    case unterminatedRecord(path: String, record: Int)
    /// The shard's end-of-shard marker is missing or disagrees with what was read.
    case incomplete(path: String, reason: String)
    /// One record is longer than the reader's fixed line buffer.
    case recordTooLong(path: String, record: Int, limit: Int)
    /// A record is not a JSON object with a top-level "schema" string, or it failed to decode.
    case badRecord(path: String, record: Int, reason: String)
    /// Bad input given to a writer (e.g. a record containing a newline byte).
    case badInput(String)
    /// zstd refused a compression setting or failed while compressing.
    case compression(String)
    /// Another process holds the run's lock.
    case locked(path: String, holder: String)
    /// A manifest is missing, unreadable or inconsistent.
    case manifest(path: String, reason: String)
    /// A path is not a shard, a stage directory or a run directory.
    case notFound(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        case let .emptyFile(path):
            return "\(path): empty file (0 bytes), not a zstd shard\nHINT: the writer was probably killed; rerun the stage that makes it"
        case let .corrupt(path, frame, offset, record, reason):
            return "\(path): corrupt zstd data in frame \(frame) (frame starts at compressed byte \(offset)), "
                + "after record \(record): \(reason)\nHINT: the shard is damaged; rerun the stage that wrote it"
        case let .truncated(path, frame, offset, record):
            return "\(path): truncated: the file ends inside zstd frame \(frame) (starting at compressed byte \(offset)), "
                + "after record \(record)\nHINT: the writer was killed or the copy is incomplete; rerun the stage that wrote it"
        case let .unterminatedRecord(path, record):
            return "\(path): record \(record) has no final newline (cut short)"
        case let .incomplete(path, reason):
            return "\(path): \(reason)\nHINT: rerun the stage that wrote it"
        case let .recordTooLong(path, record, limit):
            return "\(path): record \(record) is longer than the reader's line buffer (\(limit) bytes)\n"
                + "HINT: raise ShardReader.Options.maxRecordBytes"
        case let .badRecord(path, record, reason):
            return "\(path): record \(record): \(reason)"
        case let .badInput(message):
            return message
        case let .compression(message):
            return "zstd compression: \(message)"
        case let .locked(path, holder):
            return "\(path): locked by \(holder)\nHINT: wait for that process, or remove the lock file if it is gone"
        case let .manifest(path, reason):
            return "\(path): \(reason)"
        case let .notFound(path, reason):
            return "\(path): \(reason)"
        }
    }
}
