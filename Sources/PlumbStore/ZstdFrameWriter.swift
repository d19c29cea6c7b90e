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

/// Compresses bytes into `url`, one zstd frame per `frameBytes` of input: bytes collect in a staging
/// buffer of that size and each full buffer becomes a frame whose header states its content size
/// (so a reader can decode frames in parallel into buffers of the right size). Callers keep records
/// whole within a frame by calling `endFrame()` when `free` is too small for the next record.
final class ZstdFrameWriter {
    let url: URL
    /// Worker threads actually in use (0 when multithreading is unavailable).
    let workersInUse: Int32
    private let file: PosixFile
    private let cctx: OpaquePointer
    private var staging: UnsafeMutableRawBufferPointer   // raw bytes of the frame being gathered
    private var stagingFill = 0
    private var output: UnsafeMutableRawBufferPointer    // compressed bytes waiting for write()
    private var hasher = SHA256()
    private var frameOpen = false
    private(set) var compressedBytes = 0
    private(set) var framesWritten = 0

    init(url: URL, settings: ZstdSettings, frameBytes: Int = 4 << 20) throws {
        guard let cctx = ZSTD_createCCtx() else { throw StoreError.compression("ZSTD_createCCtx failed") }
        self.cctx = cctx
        self.url = url
        staging = .allocate(byteCount: max(frameBytes, 1), alignment: 64)
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 64)
        do {
            try Self.check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, settings.level), "level \(settings.level)")
            try Self.check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1), "checksum flag")
            var workers: Int32 = 0
            if settings.workers > 0, ZstdSettings.multithreadingAvailable,
               ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, settings.workers)) == 0 {
                workers = settings.workers   // otherwise fall back to single-threaded compression
                // Jobs small enough that one frame keeps every worker busy (zstd's minimum is 512 KiB).
                let job = Int32(max(512 << 10, min(frameBytes / Int(2 * workers), 1 << 30)))
                _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, job)
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

    /// Staging bytes still free in the current frame.
    var free: Int { staging.count - stagingFill }

    /// Appends raw bytes to the current frame. Bytes that do not fit the staging buffer end the frame
    /// there and carry on in the next one (a record longer than a frame spans frames).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        frameOpen = true
        var rest = bytes
        while rest.count > 0 {
            if free == 0 { try endFrame(); frameOpen = true }
            let n = min(free, rest.count)
            (staging.baseAddress! + stagingFill).copyMemory(from: rest.baseAddress!, byteCount: n)
            stagingFill += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    /// Appends one '\n'.
    func writeNewline() throws {
        var newline: UInt8 = 0x0A
        try withUnsafeBytes(of: &newline) { try write($0) }
    }

    /// Compresses the staged bytes as one frame (content size in its header, checksum at its end).
    /// No-op when nothing was written since the last frame, unless `forceEmptyFrame()` was called.
    func endFrame() throws {
        guard frameOpen else { return }
        try Self.check(ZSTD_CCtx_setPledgedSrcSize(cctx, UInt64(stagingFill)), "pledged size")
        try compress(UnsafeRawBufferPointer(start: staging.baseAddress, count: stagingFill), ZSTD_e_end)
        stagingFill = 0
        frameOpen = false
        framesWritten += 1
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
