// One shard file as a stream of lines. With the streaming decoder, decompressed bytes land in a
// fixed-size window that never grows, lines are cut at '\n' and a partial last line moves to the
// front. With the frame decoder, lines are cut straight out of each decoded frame (no copy); only a
// line that spans two frames is assembled in the window.
import Foundation

final class ShardLineReader {
    let url: URL
    private let frames: DecompressedSource
    private let frameDecoder: ParallelFrameReader?                     // set in frame mode
    private var chunk = UnsafeRawBufferPointer(start: nil, count: 0)   // the decoded frame being cut
    private var chunkPosition = 0
    private let window: UnsafeMutableRawBufferPointer   // fixed: maxRecordBytes
    private var start = 0                                // first unread byte in the window
    private var fill = 0                                 // bytes of the window holding data
    private var finished = false
    private let endMarker: EndMarker?   // the shard's own record count, from its last 32 bytes
    /// Lines returned so far (= the 1-based number of the last one).
    private(set) var records = 0
    /// Decompressed bytes returned so far, newlines included.
    private(set) var rawBytes = 0
    var framesCompleted: Int { frames.framesCompleted }
    var compressedBytesRead: Int { frames.compressedBytesRead }
    /// SHA-256 of the whole compressed file, once `nextLine()` has returned nil (hashing readers only).
    func compressedSHA256() -> String? {
        guard var hasher = frames.compressedHasher else { return nil }
        return hasher.finalizeHex()
    }
    /// Bytes held by this reader's buffers; constant for its lifetime.
    var bufferBytes: Int { window.count + frames.bufferBytes }

    /// `.frames` decodes whole frames (ParallelFrameReader) when the file is a plumb shard (it has an
    /// end marker, so its frames state their sizes); otherwise one streaming decoder is used.
    init(url: URL, maxRecordBytes: Int, decoding: ShardReader.Decoding = .frames(threads: 1), hashing: Bool = false) throws {
        self.url = url
        let probe = try PosixFile(readingFrom: url)
        endMarker = EndMarker.read(from: probe)
        probe.close()
        if case .frames(let threads) = decoding, endMarker != nil {
            let decoder = try ParallelFrameReader(url: url, threads: threads, hashing: hashing)
            frames = decoder
            frameDecoder = decoder
        } else {
            frames = try ZstdFrameReader(url: url, hashing: hashing)
            frameDecoder = nil
        }
        window = .allocate(byteCount: maxRecordBytes, alignment: 64)
    }

    deinit { window.deallocate() }

    /// The next line without its '\n', valid until the next call; nil at the end of the file.
    func nextLine() throws -> UnsafeRawBufferPointer? {
        if let frameDecoder { return try nextLineFromFrames(frameDecoder) }
        while true {
            if start < fill, let newline = memchr(window.baseAddress! + start, 0x0A, fill - start) {
                let lineStart = window.baseAddress! + start
                let length = UnsafeRawPointer(newline) - UnsafeRawPointer(lineStart)
                start += length + 1
                records += 1
                rawBytes += length + 1
                return UnsafeRawBufferPointer(start: lineStart, count: length)
            }
            if finished {
                if start < fill { throw StoreError.unterminatedRecord(path: url.path, record: records + 1) }
                try checkEndMarker()
                return nil
            }
            try refillWindow()
        }
    }

    /// Frame mode: a line inside the current frame is returned in place; a line that runs past the
    /// frame's end is gathered in the window.
    private func nextLineFromFrames(_ decoder: ParallelFrameReader) throws -> UnsafeRawBufferPointer? {
        while true {
            let rest = chunk.count - chunkPosition
            if rest > 0 {
                let base = chunk.baseAddress! + chunkPosition
                if let newline = memchr(base, 0x0A, rest) {
                    let length = UnsafeRawPointer(newline) - base
                    chunkPosition += length + 1
                    if fill == 0 {   // the same limit as the streaming path, so both accept the same shards
                        if length + 1 > window.count { throw StoreError.recordTooLong(path: url.path, record: records + 1, limit: window.count) }
                        return emitLine(base, length)
                    }
                    try appendToWindow(base, length)
                    let total = fill
                    fill = 0
                    return emitLine(UnsafeRawPointer(window.baseAddress!), total)
                }
                try appendToWindow(base, rest)
                chunkPosition = chunk.count
            }
            guard let next = try decoder.nextChunk(recordsSoFar: records) else {
                if fill > 0 { throw StoreError.unterminatedRecord(path: url.path, record: records + 1) }
                try checkEndMarker()
                return nil
            }
            chunk = next
            chunkPosition = 0
        }
    }

    private func emitLine(_ start: UnsafeRawPointer, _ length: Int) -> UnsafeRawBufferPointer {
        records += 1
        rawBytes += length + 1
        return UnsafeRawBufferPointer(start: start, count: length)
    }

    private func appendToWindow(_ bytes: UnsafeRawPointer, _ count: Int) throws {
        if fill + count > window.count {
            throw StoreError.recordTooLong(path: url.path, record: records + 1, limit: window.count)
        }
        (window.baseAddress! + fill).copyMemory(from: bytes, byteCount: count)
        fill += count
    }

    /// At the end of the data: the end marker must be there and agree with what was read.
    private func checkEndMarker() throws {
        guard let marker = endMarker else {
            throw StoreError.incomplete(path: url.path, reason: "the data ends after record \(records) (\(framesCompleted) frames) "
                + "without plumb's end-of-shard marker: the shard was cut short, or not written by plumb")
        }
        if marker.records != records || marker.rawBytes != rawBytes {
            throw StoreError.incomplete(path: url.path, reason: "read \(records) records (\(rawBytes) bytes) but the end-of-shard "
                + "marker says \(marker.records) records (\(marker.rawBytes) bytes)")
        }
    }

    /// Moves the partial line to the front and decompresses more after it.
    private func refillWindow() throws {
        if start > 0 {
            let pending = fill - start
            if pending > 0 { window.baseAddress!.copyMemory(from: window.baseAddress! + start, byteCount: pending) }
            fill = pending
            start = 0
        }
        if fill == window.count {
            throw StoreError.recordTooLong(path: url.path, record: records + 1, limit: window.count)
        }
        let free = UnsafeMutableRawBufferPointer(rebasing: window[fill...])
        let n = try frames.read(into: free, recordsSoFar: records)
        if n == 0 { finished = true }
        fill += n
    }
}
