// Streaming zstd compression into one file: frames with the content checksum flag on, zstd's own
// worker threads when libzstd was built with them, SHA-256 of the compressed bytes taken on the way out.
import CZstd
import Foundation

/// zstd settings for writing shards and artifacts.
public struct ZstdSettings: Codable, Equatable, Sendable {
    /// Compression level, 1 (fast) ... 19 (small); zstd's default is 3.
    public var level: Int32
    /// Worker threads requested (ZSTD_c_nbWorkers); 0 compresses on the calling thread.
    public var workers: Int32

    public init(level: Int32 = 3, workers: Int32 = Int32(ProcessInfo.processInfo.activeProcessorCount)) {
        self.level = level
        self.workers = workers
    }

    /// True when this libzstd accepts ZSTD_c_nbWorkers > 0 (built with ZSTD_MULTITHREAD).
    public static var multithreadingAvailable: Bool {
        ZSTD_cParam_getBounds(ZSTD_c_nbWorkers).upperBound > 0
    }
}

/// Compresses bytes into `url`. Call `endFrame()` to close a frame; `close()` ends the last frame and fsyncs.
final class ZstdFrameWriter {
    let url: URL
    /// Worker threads actually in use (0 when multithreading is unavailable).
    let workersInUse: Int32
    private let file: PosixFile
    private let cctx: OpaquePointer
    private var staging: UnsafeMutableRawBufferPointer   // raw bytes waiting for the compressor
    private var stagingFill = 0
    private var output: UnsafeMutableRawBufferPointer    // compressed bytes waiting for write()
    private var hasher = SHA256()
    private var frameOpen = false
    private(set) var compressedBytes = 0

    init(url: URL, settings: ZstdSettings, stagingBytes: Int = 1 << 20) throws {
        guard let cctx = ZSTD_createCCtx() else { throw StoreError.compression("ZSTD_createCCtx failed") }
        self.cctx = cctx
        self.url = url
        staging = .allocate(byteCount: stagingBytes, alignment: 64)
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 64)
        do {
            try Self.check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, settings.level), "level \(settings.level)")
            try Self.check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1), "checksum flag")
            var workers: Int32 = 0
            if settings.workers > 0, ZstdSettings.multithreadingAvailable,
               ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, settings.workers)) == 0 {
                workers = settings.workers   // otherwise fall back to single-threaded compression
            }
            workersInUse = workers
            file = try PosixFile(creating: url)
        } catch {
            ZSTD_freeCCtx(cctx); staging.deallocate(); output.deallocate()
            throw error
        }
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        staging.deallocate()
        output.deallocate()
    }

    /// Appends raw bytes to the current frame (opening one if needed).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        frameOpen = true
        guard bytes.count > 0 else { return }
        if bytes.count > staging.count - stagingFill {
            try flushStaging()
            if bytes.count > staging.count {
                try compress(bytes, ZSTD_e_continue)
                return
            }
        }
        (staging.baseAddress! + stagingFill).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        stagingFill += bytes.count
    }

    /// Appends one '\n'.
    func writeNewline() throws {
        frameOpen = true
        if stagingFill == staging.count { try flushStaging() }
        staging.storeBytes(of: 0x0A as UInt8, toByteOffset: stagingFill, as: UInt8.self)
        stagingFill += 1
    }

    /// Ends the current frame (writes its checksum). No-op when no bytes were written since the last frame.
    func endFrame() throws {
        guard frameOpen else { return }
        try compress(UnsafeRawBufferPointer(start: staging.baseAddress, count: stagingFill), ZSTD_e_end)
        stagingFill = 0
        frameOpen = false
    }

    /// True while a frame has been started and not yet ended.
    var frameIsOpen: Bool { frameOpen }

    /// Opens a frame with no content, so that `endFrame()` writes an empty frame (an empty shard).
    func forceEmptyFrame() throws { frameOpen = true }

    /// Ends the frame, appends `trailer` (raw, uncompressed bytes, e.g. a skippable frame), fsyncs and
    /// closes; returns the SHA-256 of the whole file.
    func close(trailer: [UInt8] = []) throws -> String {
        try endFrame()
        if !trailer.isEmpty {
            try trailer.withUnsafeBytes { bytes in
                try file.write(bytes)
                hasher.update(bytes)
            }
            compressedBytes += trailer.count
        }
        try file.sync()
        file.close()
        return hasher.finalizeHex()
    }

    private func flushStaging() throws {
        guard stagingFill > 0 else { return }
        try compress(UnsafeRawBufferPointer(start: staging.baseAddress, count: stagingFill), ZSTD_e_continue)
        stagingFill = 0
    }

    /// Feeds `bytes` to zstd with `directive`, writing out everything zstd produces.
    private func compress(_ bytes: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while true {
            var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = ZSTD_compressStream2(cctx, &out, &input, directive)
            try Self.check(remaining, "compressStream2 into \(url.path)")
            if out.pos > 0 {
                let chunk = UnsafeRawBufferPointer(start: output.baseAddress, count: out.pos)
                try file.write(chunk)
                hasher.update(chunk)
                compressedBytes += out.pos
            }
            let done = directive == ZSTD_e_continue ? input.pos == input.size : remaining == 0
            if done { return }
        }
    }

    private static func check(_ code: Int, _ what: String) throws {
        if ZSTD_isError(code) != 0 {
            throw StoreError.compression("\(what): \(String(cString: ZSTD_getErrorName(code)))")
        }
    }
}
