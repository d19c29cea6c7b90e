import Foundation

/// The normalised texts of the records the de-duplicator kept, in an anonymous temporary file
/// (`tmpfile`, removed when closed). Near-duplicate candidates are rare, so texts are read back only
/// when two simhashes are close, and memory per kept record stays a few words whatever its texts.
/// Layout of one entry: the text count, each text's byte length (UInt32 each), then the bytes.
final class KeptTexts {
    private let file: UnsafeMutablePointer<FILE>?
    private var end = 0
    /// Entries kept in memory when no temporary file can be made.
    private var fallback: [[String]] = []

    init() { file = tmpfile() }

    deinit { if let file { fclose(file) } }

    /// Stores `texts`; returns the handle that reads them back.
    func append(_ texts: [String]) throws -> Int {
        guard let file else {
            fallback.append(texts)
            return fallback.count - 1
        }
        var bytes: [UInt8] = []
        append(UInt32(texts.count), to: &bytes)
        for text in texts { append(UInt32(text.utf8.count), to: &bytes) }
        for text in texts { bytes.append(contentsOf: text.utf8) }
        let offset = end
        fseeko(file, off_t(offset), SEEK_SET)
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { throw failure("write") }
        end += bytes.count
        return offset
    }

    /// The texts stored under `handle`.
    func texts(_ handle: Int) throws -> [String] {
        guard let file else { return fallback[handle] }
        fseeko(file, off_t(handle), SEEK_SET)
        let count = Int(try readUInt32(file))
        let lengths = try (0..<count).map { _ in Int(try readUInt32(file)) }
        return try lengths.map { length in
            var bytes = [UInt8](repeating: 0, count: length)
            guard fread(&bytes, 1, length, file) == length else { throw failure("read") }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private func failure(_ operation: String) -> InputError {
        InputError(file: "(de-duplication temporary file)", reason: "cannot \(operation): \(String(cString: strerror(errno))); check free space in $TMPDIR")
    }

    private func append(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private func readUInt32(_ file: UnsafeMutablePointer<FILE>) throws -> UInt32 {
        var value: UInt32 = 0
        guard fread(&value, 4, 1, file) == 1 else { throw failure("read") }
        return UInt32(littleEndian: value)
    }
}
