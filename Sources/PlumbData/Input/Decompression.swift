import CZlib
import CZstd
import Foundation
import PlumbStore

/// How an input file is compressed, told by its first bytes (not its name).
public enum Compression: String, Sendable {
    case none
    case gzip
    case zstd

    static func detect(_ prefix: UnsafeRawBufferPointer) -> Compression {
        if prefix.starts(with: [0x1f, 0x8b]) { return .gzip }
        if prefix.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        return .none
    }
}

/// An input that cannot be read: the file and what went wrong.
public struct InputError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let field: String?
    public let reason: String

    public init(file: String, line: Int? = nil, field: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
    }

    /// How the error of a file that decompresses past its bound begins.
    static let decompressedLimit = "decompresses to more than"
    var isDecompressedLimit: Bool { reason.hasPrefix(InputError.decompressedLimit) }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let field { location += " field '\(field)'" }
        return "\(location): \(reason)"
    }
}

/// A file's bytes, decompressed (gzip: all members; zstd: all frames) as they are read, through
/// fixed buffers. Throws once the file gives more than `maxBytes` bytes, so a small compressed file
/// cannot expand without bound.
final class DecompressedStream {
    let path: String
    private(set) var compression = Compression.none
    /// Decompressed bytes returned so far.
    private(set) var bytesRead = 0
    private let maxBytes: Int
    private let file: PosixFile
    private let input: UnsafeMutableRawBufferPointer    // compressed bytes read from the file
    private var inputStart = 0
    private var inputEnd = 0
    private var inputAtEnd = false
    private var compressedBytesRead = 0
    private var decoder: Decoder

    private enum Decoder {
        case none
        case gzip(UnsafeMutablePointer<z_stream>, ended: Bool)
        /// `remaining`: zstd's hint after the last call (0 = the frame is complete and flushed).
        case zstd(OpaquePointer, remaining: Int)
    }

    init(path: String, maxBytes: Int, inputBufferBytes: Int = 1 << 17) throws {
        self.path = path
        self.maxBytes = maxBytes
        do { file = try PosixFile(readingFrom: URL(fileURLWithPath: path)) } catch {
            throw InputError(file: path, reason: "cannot read the file (missing or unreadable)")
        }
        input = .allocate(byteCount: inputBufferBytes, alignment: 16)
        decoder = .none
        try fillInput()
        compression = Compression.detect(UnsafeRawBufferPointer(rebasing: input[inputStart..<inputEnd]))
        switch compression {
        case .none: break
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                throw InputError(file: path, reason: "gzip: cannot initialise zlib")
            }
            decoder = .gzip(stream, ended: false)
        case .zstd:
            guard let stream = ZSTD_createDStream() else { throw InputError(file: path, reason: "zstd: cannot create a stream") }
            ZSTD_initDStream(stream)
            decoder = .zstd(stream, remaining: 1)
        }
    }

    deinit {
        input.deallocate()
        switch decoder {
        case .none: break
        case .gzip(let stream, _): inflateEnd(stream); stream.deallocate()
        case .zstd(let stream, _): ZSTD_freeDStream(stream)
        }
    }

    /// Fills `buffer` with the next decompressed bytes; returns 0 only at the end of the file. The
    /// bytes up to the limit are all returned; the read that would pass it throws.
    func read(into whole: UnsafeMutableRawBufferPointer) throws -> Int {
        let room = maxBytes - bytesRead   // at the limit, one byte more tells the end from an overflow
        let buffer = UnsafeMutableRawBufferPointer(rebasing: whole[..<(room > 0 ? min(whole.count, room) : 1)])
        var produced = 0
        while produced == 0 {
            if inputStart == inputEnd && !inputAtEnd { try fillInput() }
            let out = UnsafeMutableRawBufferPointer(rebasing: buffer[produced...])
            let before = inputStart
            let (count, finished) = try decode(into: out)
            produced += count
            if finished { break }
            if count == 0 && inputStart == before && inputStart < inputEnd {
                throw InputError(file: path, reason: "\(compression.rawValue): corrupt data (the decoder makes no progress)")
            }
        }
        bytesRead += produced
        if bytesRead > maxBytes {
            throw InputError(file: path, reason: "\(InputError.decompressedLimit) \(maxBytes) bytes (the per-file limit, "
                + "--max-decompressed-bytes): stopped after \(compressedBytesRead) compressed bytes")
        }
        return produced
    }

    private func fillInput() throws {
        if inputStart == inputEnd { inputStart = 0; inputEnd = 0 }
        let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: input[inputEnd...]))
        if n == 0 { inputAtEnd = true }
        inputEnd += n
        compressedBytesRead += n
    }

    /// Bytes produced from what is buffered, and whether the stream is over.
    private func decode(into out: UnsafeMutableRawBufferPointer) throws -> (Int, Bool) {
        let available = inputEnd - inputStart
        switch decoder {
        case .none:
            let n = min(available, out.count)
            if n > 0 { out.baseAddress!.copyMemory(from: input.baseAddress! + inputStart, byteCount: n) }
            inputStart += n
            return (n, n == 0 && inputAtEnd)
        case .gzip(let stream, let ended):
            if available == 0 && inputAtEnd {
                if !ended {
                    throw InputError(file: path, reason: "gzip stream is cut short after \(compressedBytesRead) compressed bytes "
                        + "(\(bytesRead) bytes decompressed): the file is truncated")
                }
                return (0, true)
            }
            if ended { inflateReset(stream) }   // another gzip member follows
            stream.pointee.next_in = (input.baseAddress! + inputStart).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(available)
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(out.count)
            let status = inflate(stream, Z_NO_FLUSH)
            inputStart = inputEnd - Int(stream.pointee.avail_in)
            let produced = out.count - Int(stream.pointee.avail_out)
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced == 0) else {
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                throw InputError(file: path, reason: "gzip: corrupt data (\(message))")
            }
            decoder = .gzip(stream, ended: status == Z_STREAM_END)
            return (produced, false)
        case .zstd(let stream, let remaining):
            let inputDone = available == 0 && inputAtEnd
            if inputDone && remaining == 0 { return (0, true) }   // the last frame is complete and flushed
            var inBuffer = ZSTD_inBuffer(src: input.baseAddress! + inputStart, size: available, pos: 0)
            var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let hint = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw InputError(file: path, reason: "zstd: corrupt data (\(String(cString: ZSTD_getErrorName(hint))))")
            }
            inputStart += inBuffer.pos
            // No input left and nothing more comes out, yet the frame is not complete: cut short.
            if inputDone && outBuffer.pos == 0 && hint != 0 {
                throw InputError(file: path, reason: "zstd frame is cut short (\(compressedBytesRead) compressed bytes): the file is truncated")
            }
            decoder = .zstd(stream, remaining: hint)
            return (outBuffer.pos, false)
        }
    }
}
