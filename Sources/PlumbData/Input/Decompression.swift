import CZlib
import CZstd
import Foundation

/// How an input file is compressed, told by its first bytes (not its name).
public enum Compression: String, Sendable {
    case none
    case gzip
    case zstd

    static func detect(_ data: Data) -> Compression {
        if data.starts(with: [0x1f, 0x8b]) { return .gzip }
        if data.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
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

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let field { location += " field '\(field)'" }
        return "\(location): \(reason)"
    }
}

enum Decompression {
    /// Reads a file and undoes gzip or zstd compression.
    static func readFile(_ path: String) throws -> (Data, Compression) {
        guard let raw = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, reason: "cannot read the file (missing or unreadable)")
        }
        let compression = Compression.detect(raw)
        switch compression {
        case .none: return (raw, .none)
        case .gzip: return (try gunzip(raw, file: path), .gzip)
        case .zstd: return (try unzstd(raw, file: path), .zstd)
        }
    }

    /// Inflates every gzip member; a stream that ends before its trailer is an error.
    static func gunzip(_ input: Data, file: String) throws -> Data {
        var output = Data()
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw InputError(file: file, reason: "gzip: cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(raw.count)
            while true {
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(buffer, count: chunk - Int(stream.avail_out))
                if status == Z_STREAM_END {
                    if stream.avail_in == 0 { return }
                    inflateReset(&stream)  // another gzip member follows
                    continue
                }
                if status == Z_BUF_ERROR || (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
                    throw InputError(file: file, reason: "gzip stream is cut short after \(input.count) compressed bytes (\(output.count) bytes decompressed): the file is truncated")
                }
                guard status == Z_OK else {
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw InputError(file: file, reason: "gzip: corrupt data (\(message))")
                }
            }
        }
        return output
    }

    /// Decompresses every zstd frame; input that ends inside a frame is an error.
    static func unzstd(_ input: Data, file: String) throws -> Data {
        guard let stream = ZSTD_createDStream() else { throw InputError(file: file, reason: "zstd: cannot create a stream") }
        defer { ZSTD_freeDStream(stream) }
        ZSTD_initDStream(stream)
        var output = Data()
        let chunk = ZSTD_DStreamOutSize()
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var inBuffer = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
            var remaining = 0
            while true {
                let produced = try buffer.withUnsafeMutableBytes { out -> Int in
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: chunk, pos: 0)
                    remaining = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                    if ZSTD_isError(remaining) != 0 {
                        throw InputError(file: file, reason: "zstd: corrupt data (\(String(cString: ZSTD_getErrorName(remaining))))")
                    }
                    return outBuffer.pos
                }
                output.append(buffer, count: produced)
                // Done when all input is consumed and the output buffer was not filled (nothing left to flush).
                if inBuffer.pos == inBuffer.size && produced < chunk { break }
            }
            if remaining != 0 {
                throw InputError(file: file, reason: "zstd frame is cut short (\(input.count) compressed bytes): the file is truncated")
            }
        }
        return output
    }
}
