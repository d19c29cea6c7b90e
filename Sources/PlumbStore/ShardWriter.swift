// Streaming writer of one shard set: JSON lines into zstd frames, rolling to a new shard by record
// count or raw bytes. Shards are written under hidden `.partial` names and renamed to
// `NAME-00000-of-0000N.jsonl.zst` by `finish()`, once N is known.
import Foundation

/// What a finished shard holds; the same fields go into a stage manifest's outputs.
public struct ShardFileInfo: Codable, Equatable, Sendable {
    /// File name, relative to the shard set's directory.
    public var file: String
    /// SHA-256 of the compressed file, hex.
    public var sha256: String
    public var records: Int
    /// Uncompressed JSON Lines bytes, newlines included.
    public var rawBytes: Int
    public var compressedBytes: Int
    public var frames: Int
    /// Schema -> number of records with it.
    public var schemas: [String: Int]
}

public final class ShardWriter {
    public struct Options: Sendable {
        /// Start a new shard after this many records ...
        public var maxRecordsPerShard = 1_000_000
        /// ... or before a record that would take the shard past this many raw bytes.
        public var maxRawBytesPerShard = 256 << 20
        /// Raw bytes per zstd frame (records are kept whole within a frame when they fit). Frames
        /// localise damage reports and are the unit of parallel decoding; the writer and each
        /// decoding thread hold one frame of raw bytes.
        public var frameRawBytes = 4 << 20
        public var zstd = ZstdSettings()
        /// Refuse records without a valid top-level "schema": "<kind>/<version>".
        public var requireSchema = true
        public init() {}
    }

    public let directory: URL
    public let name: String
    public let options: Options
    private var finished: [ShardFileInfo] = []
    private var current: ZstdFrameWriter?
    private var currentInfo = ShardFileInfo(file: "", sha256: "", records: 0, rawBytes: 0, compressedBytes: 0, frames: 0, schemas: [:])
    private var done = false
    private let encoder: JSONEncoder
    /// Records appended so far, over all shards.
    public private(set) var recordsWritten = 0
    /// zstd worker threads in use (0 when this libzstd has no multithreading).
    public private(set) var workersInUse: Int32 = 0

    /// Prepares to write shard set `name` into `directory` (created if missing). Refuses if finished
    /// shards of that name are already there, and removes `.partial` leftovers of an earlier, killed writer.
    public init(directory: URL, name: String, options: Options = Options()) throws {
        try ShardNaming.validate(name)
        self.directory = directory
        self.name = name
        self.options = options
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.makeDirectory(directory)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if let clash = existing.first(where: { ShardNaming.parse($0)?.name == name }) {
            throw StoreError.badInput("\(directory.path): shards of '\(name)' already exist (\(clash)); remove them or write elsewhere")
        }
        for leftover in existing where leftover.hasPrefix(".\(name)-") && leftover.hasSuffix(".partial") {
            unlink(directory.appendingPathComponent(leftover).path)
        }
    }

    deinit {
        if !done { abandon() }
    }

    /// Appends one record given as JSON text without its newline.
    public func append(jsonLine: UnsafeRawBufferPointer) throws {
        guard !done else { throw StoreError.badInput("\(name): append after finish()") }
        let record = recordsWritten + 1
        guard let base = jsonLine.baseAddress, jsonLine.count > 0 else {
            throw StoreError.badInput("\(name): record \(record) is empty")
        }
        if memchr(base, 0x0A, jsonLine.count) != nil {
            throw StoreError.badInput("\(name): record \(record) contains a newline byte; one record per line")
        }
        var schema = ""
        switch RecordSchema.find(in: jsonLine) {
        case .found(let s): schema = s
        case .missing where !options.requireSchema: schema = ""
        case .missing: throw StoreError.badInput("\(name): record \(record) has no top-level \"schema\": \"<kind>/<version>\" field")
        case .invalid(let why): throw StoreError.badInput("\(name): record \(record): \(why)")
        }
        try rollIfNeeded(adding: jsonLine.count + 1)
        if current!.free < jsonLine.count + 1 { try current!.endFrame() }   // keep the record in one frame
        try current!.write(jsonLine)
        try current!.writeNewline()
        currentInfo.records += 1
        currentInfo.rawBytes += jsonLine.count + 1
        currentInfo.schemas[schema, default: 0] += 1
        recordsWritten += 1
    }

    public func append(jsonLine: Data) throws { try jsonLine.withUnsafeBytes { try append(jsonLine: $0) } }
    public func append(jsonLine: String) throws { try append(jsonLine: Data(jsonLine.utf8)) }

    /// Encodes `record` with sorted keys (so the same record is always the same bytes) and appends it.
    public func append<T: Encodable>(_ record: T) throws {
        let data: Data
        do { data = try encoder.encode(record) } catch {
            throw StoreError.badInput("\(name): record \(recordsWritten + 1) does not encode: \(error)")
        }
        try append(jsonLine: data)
    }

    /// Closes the last shard, renames every shard to its final name (fsyncing the directory) and
    /// returns their descriptions. An empty set still makes one shard holding one empty frame.
    public func finish() throws -> [ShardFileInfo] {
        guard !done else { throw StoreError.badInput("\(name): finish() called twice") }
        if current == nil { try openShard(); try current!.forceEmptyFrame() }
        try closeShard()
        let count = finished.count
        for i in finished.indices {
            let final = ShardNaming.finalName(name, index: i, count: count)
            let from = directory.appendingPathComponent(finished[i].file)
            if Glibc.rename(from.path, directory.appendingPathComponent(final).path) != 0 {
                throw StoreError.io(path: from.path, operation: "rename to \(final)", errno: errno)
            }
            finished[i].file = final
        }
        try AtomicFile.syncDirectory(directory)
        done = true
        return finished
    }

    /// Removes the partial files written so far (used when a stage fails before finish()).
    public func abandon() {
        done = true
        current = nil
        for info in finished { unlink(directory.appendingPathComponent(info.file).path) }
        unlink(directory.appendingPathComponent(ShardNaming.partialName(name, index: finished.count)).path)
    }

    private func rollIfNeeded(adding bytes: Int) throws {
        if current != nil, currentInfo.records >= options.maxRecordsPerShard
            || (currentInfo.records > 0 && currentInfo.rawBytes + bytes > options.maxRawBytesPerShard) {
            try closeShard()
        }
        if current == nil { try openShard() }
    }

    private func openShard() throws {
        let file = ShardNaming.partialName(name, index: finished.count)
        let writer = try ZstdFrameWriter(url: directory.appendingPathComponent(file), settings: options.zstd,
                                         frameBytes: options.frameRawBytes)
        workersInUse = writer.workersInUse
        current = writer
        currentInfo = ShardFileInfo(file: file, sha256: "", records: 0, rawBytes: 0, compressedBytes: 0, frames: 0, schemas: [:])
    }

    private func closeShard() throws {
        guard let writer = current else { return }
        let marker = EndMarker(records: currentInfo.records, rawBytes: currentInfo.rawBytes)
        currentInfo.sha256 = try writer.close(trailer: marker.encoded())
        currentInfo.compressedBytes = writer.compressedBytes
        currentInfo.frames = writer.framesWritten
        currentInfo.schemas = currentInfo.schemas.filter { !$0.key.isEmpty || $0.value > 0 }
        finished.append(currentInfo)
        current = nil
    }
}
