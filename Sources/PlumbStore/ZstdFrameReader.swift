// Streaming zstd decompression from one file through fixed buffers, keeping track of where it is
// (frame index, the compressed byte offset where that frame starts) so errors can say where.
import CZstd
import Foundation

final class ZstdFrameReader {
    let path: String
    let file: PosixFile
    private let dctx: OpaquePointer
    private let inputBuffer: UnsafeMutableRawBufferPointer   // compressed bytes from the file, fixed size
    private var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var endOfFile = false
    private var midFrame = false
    private var fileBytesRead = 0
    /// Index (0-based) of the frame being decoded, and the compressed offset where it starts.
    private(set) var frameIndex = 0
    private(set) var frameStartOffset = 0
    /// Frames fully decoded (checksum verified) so far.
    var framesCompleted: Int { frameIndex }
    /// The size in bytes of this reader's fixed buffers.
    var bufferBytes: Int { inputBuffer.count }

    /// SHA-256 of the compressed bytes read so far, when created with `hashing: true`.
    private(set) var compressedHasher: SHA256?
    var compressedBytesRead: Int { fileBytesRead }

    init(url: URL, hashing: Bool = false) throws {
        path = url.path
        compressedHasher = hashing ? SHA256() : nil
        file = try PosixFile(readingFrom: url)
        guard let dctx = ZSTD_createDCtx() else { throw StoreError.compression("ZSTD_createDCtx failed") }
        self.dctx = dctx
        inputBuffer = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 64)
    }

    deinit {
        ZSTD_freeDCtx(dctx)
        inputBuffer.deallocate()
    }

    /// Compressed bytes consumed by the decoder so far.
    private var consumedOffset: Int { fileBytesRead - (input.size - input.pos) }

    /// Fills `buffer` with decompressed bytes; returns how many (0 only at the clean end of the last frame).
    /// `recordsSoFar` is put into errors so they can say after which record the damage is.
    func read(into buffer: UnsafeMutableRawBufferPointer, recordsSoFar: Int) throws -> Int {
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while out.pos < out.size {
            if input.pos == input.size && !endOfFile { try refill() }
            if input.pos == input.size && endOfFile {
                if fileBytesRead == 0 { throw StoreError.emptyFile(path: path) }
                if !midFrame { break }
                let before = out.pos
                try decompressStep(&out, recordsSoFar)        // flush what the decoder still holds
                if midFrame && out.pos == before {
                    throw StoreError.truncated(path: path, frame: frameIndex, byteOffset: frameStartOffset, record: recordsSoFar)
                }
                continue
            }
            try decompressStep(&out, recordsSoFar)
        }
        return out.pos
    }

    private func decompressStep(_ out: inout ZSTD_outBuffer, _ recordsSoFar: Int) throws {
        let result = ZSTD_decompressStream(dctx, &out, &input)
        if ZSTD_isError(result) != 0 {
            var reason = String(cString: ZSTD_getErrorName(result))
            if frameIndex == 0 && !midFrame && ZSTD_getErrorCode(result) == ZSTD_error_prefix_unknown {
                reason += " (the file does not start with a zstd frame: not a zstd shard)"
            }
            throw StoreError.corrupt(path: path, frame: frameIndex, byteOffset: frameStartOffset,
                                     record: recordsSoFar, reason: reason)
        }
        if result == 0 {
            midFrame = false
            frameIndex += 1
            frameStartOffset = consumedOffset
        } else {
            midFrame = true
        }
    }

    private func refill() throws {
        let n = try file.read(into: inputBuffer)
        if n == 0 { endOfFile = true }
        fileBytesRead += n
        if compressedHasher != nil { compressedHasher!.update(UnsafeRawBufferPointer(rebasing: inputBuffer[0..<n])) }
        input = ZSTD_inBuffer(src: UnsafeRawPointer(inputBuffer.baseAddress), size: n, pos: 0)
    }
}
