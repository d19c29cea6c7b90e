import Foundation

/// Limits on what one input file may hold. They bound memory whatever the file's size or shape.
public struct InputLimits: Codable, Equatable, Sendable {
    /// Longest row (a JSON line, a JSON array element, a CSV record) held in memory; a longer one is
    /// skipped without being held and quarantined as `too_long` with its length. A row at the limit
    /// is held about four times over while parsed (bytes, parse, record, validation).
    public var maxLineBytes = 16 << 20
    /// Decompressed bytes one file may give before the import stops with an error naming the file.
    public var maxDecompressedBytes = 8 << 30
    /// Format detection looks for its first parsable row in this many decompressed bytes only.
    public var detectionBytes = 64 << 20

    public init() {}
}

/// The decompressed bytes of a file, seen through a fixed buffer: scanners look at `available`,
/// consume what they used and refill.
final class InputBuffer {
    private let stream: DecompressedStream
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    var path: String { stream.path }
    var compression: Compression { stream.compression }
    var bytesDecompressed: Int { stream.bytesRead }

    init(path: String, maxDecompressedBytes: Int, bufferBytes: Int = 1 << 20) throws {
        stream = try DecompressedStream(path: path, maxBytes: maxDecompressedBytes)
        buffer = .allocate(byteCount: bufferBytes, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// The unread bytes at hand; empty only at the end of the file.
    func available() throws -> UnsafeBufferPointer<UInt8> {
        if start == end {
            start = 0
            end = try stream.read(into: buffer)
        }
        return UnsafeBufferPointer(rebasing: buffer.bindMemory(to: UInt8.self)[start..<end])
    }

    /// Marks `count` bytes of the last `available()` as read.
    func consume(_ count: Int) { start += count }

    /// Skips spaces, tabs, CRs and newlines; returns the newlines skipped.
    func skipWhitespace() throws -> Int {
        var newlines = 0
        while true {
            let bytes = try available()
            if bytes.isEmpty { return newlines }
            var i = 0
            while i < bytes.count, JSONBytes.isWhitespace(bytes[i]) {
                if bytes[i] == JSONBytes.newline { newlines += 1 }
                i += 1
            }
            consume(i)
            if i < bytes.count { return newlines }
        }
    }

    /// The next byte without consuming it; nil at the end.
    func peek() throws -> UInt8? { try available().first }
}

/// A row's bytes held up to a limit: past it only the length and the first bytes (for the
/// quarantine excerpt) are kept.
struct BoundedBytes {
    static let excerptBytes = 500
    let limit: Int
    private(set) var bytes: [UInt8] = []
    private(set) var length = 0
    var overflowed: Bool { length > limit }

    init(limit: Int) { self.limit = limit }

    mutating func append(_ piece: UnsafeBufferPointer<UInt8>) {
        length += piece.count
        if length <= limit {
            bytes.append(contentsOf: piece)
        } else if bytes.count > BoundedBytes.excerptBytes {
            bytes.removeSubrange(BoundedBytes.excerptBytes...)
            if bytes.capacity > 1 << 20 { bytes = Array(bytes) }   // give a large buffer back
        } else if bytes.count < BoundedBytes.excerptBytes {
            bytes.append(contentsOf: piece.prefix(BoundedBytes.excerptBytes - bytes.count))
        }
    }

    mutating func append(_ byte: UInt8) {
        withUnsafeBytes(of: byte) { append($0.bindMemory(to: UInt8.self)) }
    }

    /// Takes the bytes and starts again.
    mutating func take() -> [UInt8] {
        defer { bytes = []; length = 0 }
        return bytes
    }

    /// The problem of an over-long row.
    var tooLongProblem: RowProblem {
        RowProblem(.tooLong, "the row is \(length) bytes, longer than the limit of \(limit) bytes (--max-line-bytes); skipped without being held")
    }
}

enum JSONBytes {
    static let newline = UInt8(ascii: "\n")
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09
    }
}
