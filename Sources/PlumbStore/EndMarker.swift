// The end-of-shard marker: a zstd skippable frame (ignored by zstdcat and every zstd decoder) as the
// last 32 bytes of each shard, holding the shard's record count and raw size. A reader that reaches
// the end of the data without it knows the shard was cut short, even exactly at a frame boundary,
// so a damaged shard can never read as a shorter valid one.
//
//   bytes 0-3   0x184D2A5E, little endian (skippable frame magic, RFC 8878 section 3.1.2)
//   bytes 4-7   24, little endian (payload size)
//   bytes 8-15  "PLUMBEND"
//   bytes 16-23 record count, little endian
//   bytes 24-31 raw (decompressed) bytes, little endian
import Foundation

struct EndMarker: Equatable {
    static let size = 32
    private static let skippableMagic: UInt32 = 0x184D_2A5E
    private static let tag = Array("PLUMBEND".utf8)

    var records: Int
    var rawBytes: Int

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        put(Self.skippableMagic)
        put(UInt32(24))
        bytes += Self.tag
        put(UInt64(records))
        put(UInt64(rawBytes))
        return bytes
    }

    /// Parses the last 32 bytes of a file; nil when they are not an end marker.
    static func parse(_ bytes: [UInt8]) -> EndMarker? {
        guard bytes.count == size else { return nil }
        func get<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
            return value
        }
        guard get(0, UInt32.self) == skippableMagic, get(4, UInt32.self) == 24, Array(bytes[8..<16]) == tag else { return nil }
        let records = get(16, UInt64.self), raw = get(24, UInt64.self)
        guard records <= UInt64(Int.max), raw <= UInt64(Int.max) else { return nil }
        return EndMarker(records: Int(records), rawBytes: Int(raw))
    }

    /// Reads the marker at the end of `file`, if there is one.
    static func read(from file: PosixFile) -> EndMarker? {
        var info = stat()
        guard fstat(file.fd, &info) == 0, info.st_size >= size else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let n = bytes.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, size, off_t(info.st_size) - off_t(size)) }
        return n == size ? parse(bytes) : nil
    }
}

/// Quick facts about a shard without decompressing it.
public enum ShardInspector {
    /// Records and raw bytes from the shard's end-of-shard marker; nil if the file has none.
    public static func endMarker(of url: URL) -> (records: Int, rawBytes: Int)? {
        guard let file = try? PosixFile(readingFrom: url), let marker = EndMarker.read(from: file) else { return nil }
        return (marker.records, marker.rawBytes)
    }
}
