// Streaming reader over one shard or many: in order, or shuffled with a seed. Memory is fixed by the
// options (one line window per open shard, plus the shuffle buffer), never by the size of the data.
//
// What "shuffled" guarantees: the output is a permutation of all records of all shards (none lost,
// none repeated); the same seed and files give the same order; shard order is a seeded
// Fisher-Yates shuffle, and records pass through a buffer of `bufferRecords` from which each
// output is drawn uniformly. A record therefore leaves at most `bufferRecords - 1` places earlier
// than it would in order; it is a local shuffle, as exact as the buffer is large.
import Foundation

public final class ShardReader {
    public enum Order: Equatable, Sendable {
        case sequential
        case shuffled(seed: UInt64, bufferRecords: Int)
    }

    /// How shards are decompressed.
    public enum Decoding: Equatable, Sendable {
        /// One zstd stream through a 128 KiB input buffer: the least memory (window + 128 KiB).
        /// Used for any file without plumb's end marker.
        case streaming
        /// Whole frames decoded straight into frame-sized buffers and lines cut out of them without a
        /// copy; `threads` > 1 decodes 2 x threads frames at once. Memory: window + read-ahead (8 MiB)
        /// + one frame (4 MiB by default) per slot. More threads help tools that only read; beside a
        /// training loop that keeps every core busy, one thread is the better choice.
        case frames(threads: Int)
    }

    public struct Options: Sendable {
        /// The fixed line window: the longest record that can be read.
        public var maxRecordBytes = 4 << 20
        public var order: Order = .sequential
        /// When set, every record must carry exactly this "schema" (e.g. "comparison/1").
        public var expectedSchema: String?
        /// How zstd is decoded (see `Decoding`); whole frames on one thread by default.
        public var decoding: Decoding = .frames(threads: 1)
        public init(order: Order = .sequential, expectedSchema: String? = nil) {
            self.order = order
            self.expectedSchema = expectedSchema
        }
    }

    public let files: [URL]
    public let options: Options
    private var fileIndex = -1
    private var lines: ShardLineReader?
    private var rng: SplitMix64
    private var pool: [(line: [UInt8], file: Int, record: Int)] = []   // shuffle buffer
    private var emitted: UnsafeMutableRawBufferPointer?               // the line last returned (shuffled mode)
    private let decoder = JSONDecoder()
    /// File and 1-based record number of the line last returned.
    public private(set) var position: (file: URL?, record: Int) = (nil, 0)
    /// Records returned so far.
    public private(set) var recordsRead = 0
    /// Bytes of the line window currently allocated (constant: the reader never grows it).
    public var lineBufferBytes: Int { lines?.bufferBytes ?? 0 }

    public init(files: [URL], options: Options = Options()) {
        var order = files
        switch options.order {
        case .sequential: rng = SplitMix64(seed: 0)
        case .shuffled(let seed, _):
            rng = SplitMix64(seed: seed)
            rng.shuffle(&order)
        }
        self.files = order
        self.options = options
    }

    /// A reader over every shard under `path` (a shard, a stage directory or a run directory), in order
    /// of stage, set name and shard index.
    public convenience init(path: URL, output: String? = nil, options: Options = Options()) throws {
        let sets = try ShardLocator.locate(path).filter { output == nil || $0.name == output }
        if sets.isEmpty { throw StoreError.notFound(path: path.path, reason: "no shard set\(output.map { " named '\($0)'" } ?? "") here") }
        self.init(files: sets.flatMap(\.files), options: options)
    }

    deinit { emitted?.deallocate() }

    /// The next record's JSON text (no newline), valid until the next call; nil after the last record.
    public func nextLine() throws -> UnsafeRawBufferPointer? {
        switch options.order {
        case .sequential:
            guard let line = try nextSequentialLine() else { return nil }
            try checkSchema(line)
            recordsRead += 1
            return line
        case .shuffled(_, let bufferRecords):
            while pool.count < max(1, bufferRecords), let line = try nextSequentialLine() {
                try checkSchema(line)
                pool.append((Array(line), fileIndex, lines!.records))
            }
            if pool.isEmpty { return nil }
            pool.swapAt(rng.below(pool.count), pool.count - 1)
            let entry = pool.removeLast()
            if emitted == nil { emitted = .allocate(byteCount: options.maxRecordBytes, alignment: 16) }
            entry.line.withUnsafeBytes { emitted!.copyMemory(from: $0) }
            position = (files[entry.file], entry.record)
            recordsRead += 1
            return UnsafeRawBufferPointer(start: emitted!.baseAddress, count: entry.line.count)
        }
    }

    /// The next record's JSON text as `Data`.
    public func nextData() throws -> Data? {
        guard let line = try nextLine() else { return nil }
        return Data(line)
    }

    /// The next record decoded as `T`; a record that does not decode is an error naming file and record.
    public func next<T: Decodable>(_ type: T.Type) throws -> T? {
        guard let data = try nextData() else { return nil }
        do { return try decoder.decode(T.self, from: data) } catch {
            throw StoreError.badRecord(path: position.file?.path ?? "?", record: position.record,
                                       reason: "does not decode as \(T.self): \(error)")
        }
    }

    /// Every remaining record decoded as `T` (for small sets; large sets should stream with `next`).
    public func readAll<T: Decodable>(_ type: T.Type) throws -> [T] {
        var all: [T] = []
        while let record = try next(T.self) { all.append(record) }
        return all
    }

    private func nextSequentialLine() throws -> UnsafeRawBufferPointer? {
        while true {
            if let reader = lines, let line = try reader.nextLine() {
                position = (reader.url, reader.records)
                return line
            }
            fileIndex += 1
            lines = nil
            guard fileIndex < files.count else { return nil }
            lines = try ShardLineReader(url: files[fileIndex], maxRecordBytes: options.maxRecordBytes,
                                    decoding: options.decoding)
        }
    }

    private func checkSchema(_ line: UnsafeRawBufferPointer) throws {
        guard let expected = options.expectedSchema else { return }
        let found = RecordSchema.find(in: line)
        if found != .found(expected) {
            let url = lines?.url.path ?? "?"
            throw StoreError.badRecord(path: url, record: lines?.records ?? 0,
                                       reason: "expected \"schema\": \"\(expected)\", found \(found)")
        }
    }
}
