// One shard file as a stream of lines, through a fixed-size window that never grows: decompressed
// bytes land in the window, lines are cut at '\n', a partial last line moves to the front.
import Foundation

final class ShardLineReader {
    let url: URL
    private let frames: DecompressedSource
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

    /// `decodeThreads` > 1 decodes whole frames in parallel (ParallelFrameReader) when the file is a
    /// plumb shard (it has an end marker); otherwise one streaming decoder is used.
    init(url: URL, maxRecordBytes: Int, decodeThreads: Int = 1, hashing: Bool = false) throws {
        self.url = url
        let probe = try PosixFile(readingFrom: url)
        endMarker = EndMarker.read(from: probe)
        probe.close()
        if decodeThreads > 1 && endMarker != nil {
            frames = try ParallelFrameReader(url: url, threads: decodeThreads, hashing: hashing)
        } else {
            frames = try ZstdFrameReader(url: url, hashing: hashing)
        }
        window = .allocate(byteCount: maxRecordBytes, alignment: 64)
    }

    deinit { window.deallocate() }

    /// The next line without its '\n', valid until the next call; nil at the end of the file.
    func nextLine() throws -> UnsafeRawBufferPointer? {
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
