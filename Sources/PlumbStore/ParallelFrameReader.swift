// Whole-frame decompression of one shard, on one thread or several: whole zstd frames are cut out of
// a read-ahead buffer (ZSTD_findFrameCompressedSize) and a batch of them is decoded at once, one frame
// per thread (ZSTD_decompressDCtx, which checks each frame's content checksum before anything is
// returned). Frames written by ShardWriter state their content size, so each is decoded straight into
// a buffer of exactly that size, and ShardLineReader cuts lines out of it without copying. Memory is
// bounded by the read-ahead plus one frame per slot (the frame size), never by the size of the shard.
import CZstd
import Dispatch
import Foundation

/// What ShardLineReader needs from a decompressor: bytes in order, and where it is.
protocol DecompressedSource: AnyObject {
    var file: PosixFile { get }
    var framesCompleted: Int { get }
    var compressedBytesRead: Int { get }
    var bufferBytes: Int { get }
    var compressedHasher: SHA256? { get }
    func read(into buffer: UnsafeMutableRawBufferPointer, recordsSoFar: Int) throws -> Int
}

extension ZstdFrameReader: DecompressedSource {}

final class ParallelFrameReader: DecompressedSource {
    /// A frame larger than this (raw) is refused rather than allocated.
    static let maxFrameBytes = 256 << 20

    let path: String
    let file: PosixFile
    private var ahead: UnsafeMutableRawBufferPointer      // compressed read-ahead; grows only to hold one frame
    private var aheadStart = 0, aheadFill = 0
    private var aheadFileOffset = 0                         // file offset of ahead[0]
    private var endOfFile = false
    private var dctxs: [OpaquePointer]
    private var slots: [UnsafeMutableRawBufferPointer]      // decoded frames, one per thread slot
    private var slotCounts: [Int]
    private var readySlots = 0, currentSlot = 0, slotPosition = 0
    private var nextFrameIndex = 0
    private(set) var framesCompleted = 0
    private(set) var compressedBytesRead = 0
    private(set) var compressedHasher: SHA256?
    var bufferBytes: Int { ahead.count + slots.reduce(0) { $0 + $1.count } }

    private let threads: Int

    init(url: URL, threads: Int, readAheadBytes: Int = 8 << 20, hashing: Bool = false) throws {
        self.threads = max(1, threads)
        path = url.path
        file = try PosixFile(readingFrom: url)
        compressedHasher = hashing ? SHA256() : nil
        ahead = .allocate(byteCount: readAheadBytes, alignment: 64)
        let count = threads > 1 ? threads * 2 : 1
        dctxs = (0..<count).compactMap { _ in ZSTD_createDCtx() }
        slots = Array(repeating: UnsafeMutableRawBufferPointer(start: nil, count: 0), count: count)
        slotCounts = Array(repeating: 0, count: count)
        if dctxs.count != count { throw StoreError.compression("ZSTD_createDCtx failed") }
    }

    deinit {
        dctxs.forEach { ZSTD_freeDCtx($0) }
        slots.forEach { $0.deallocate() }
        ahead.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, recordsSoFar: Int) throws -> Int {
        var written = 0
        while written < buffer.count {
            if currentSlot < readySlots {
                let n = min(slotCounts[currentSlot] - slotPosition, buffer.count - written)
                if n > 0 {
                    (buffer.baseAddress! + written).copyMemory(from: slots[currentSlot].baseAddress! + slotPosition, byteCount: n)
                }
                written += n
                slotPosition += n
                if slotPosition == slotCounts[currentSlot] { currentSlot += 1; slotPosition = 0 }
                continue
            }
            if try !decodeBatch(recordsSoFar) { break }
        }
        return written
    }

    /// The next decoded frame, whole; valid until the call after next. nil at the clean end of the file.
    func nextChunk(recordsSoFar: Int) throws -> UnsafeRawBufferPointer? {
        while currentSlot >= readySlots {
            if try !decodeBatch(recordsSoFar) { return nil }
        }
        let chunk = UnsafeRawBufferPointer(start: slots[currentSlot].baseAddress, count: slotCounts[currentSlot])
        currentSlot += 1
        return chunk
    }

    /// A frame found in the read-ahead: where its bytes are, its index, its file offset, its raw size.
    private struct FrameRef { var start: Int; var size: Int; var index: Int; var offset: Int; var contentSize: Int }

    /// Cuts up to `slots.count` frames out of the read-ahead and decodes them in parallel.
    /// Returns false at the clean end of the file.
    private func decodeBatch(_ recordsSoFar: Int) throws -> Bool {
        var frames: [FrameRef] = []
        while frames.count < slots.count {
            guard let frame = try nextFrame(recordsSoFar, mayRefill: frames.isEmpty) else { break }
            if let frame { frames.append(frame) }
        }
        if frames.isEmpty { return false }
        for (i, frame) in frames.enumerated() where slots[i].count < frame.contentSize {
            slots[i].deallocate()
            slots[i] = .allocate(byteCount: frame.contentSize, alignment: 64)
        }
        var results = [Int](repeating: 0, count: frames.count)
        results.withUnsafeMutableBufferPointer { results in
            let src = UnsafeRawPointer(ahead.baseAddress!)
            let (slotsCopy, dctxsCopy) = (slots, dctxs)
            let decode = { (i: Int) in
                let f = frames[i]
                results[i] = ZSTD_decompressDCtx(dctxsCopy[i], slotsCopy[i].baseAddress, f.contentSize, src + f.start, f.size)
            }
            if threads == 1 { (0..<frames.count).forEach(decode) } else { DispatchQueue.concurrentPerform(iterations: frames.count, execute: decode) }
        }
        for (i, frame) in frames.enumerated() {
            if ZSTD_isError(results[i]) != 0 {
                throw StoreError.corrupt(path: path, frame: frame.index, byteOffset: frame.offset, record: recordsSoFar,
                                         reason: String(cString: ZSTD_getErrorName(results[i])))
            }
            if results[i] != frame.contentSize {
                throw StoreError.corrupt(path: path, frame: frame.index, byteOffset: frame.offset, record: recordsSoFar,
                                         reason: "decoded \(results[i]) bytes, the frame header says \(frame.contentSize)")
            }
            slotCounts[i] = frame.contentSize
        }
        framesCompleted += frames.count
        readySlots = frames.count
        currentSlot = 0
        slotPosition = 0
        return true
    }

    /// The next data frame in the read-ahead: .some(frame), .some(nil) for a skipped skippable frame,
    /// nil at the end of the file or when more data is needed but refilling would move frames in use.
    private func nextFrame(_ recordsSoFar: Int, mayRefill: Bool) throws -> FrameRef?? {
        while true {
            let available = aheadFill - aheadStart
            if available == 0 && endOfFile {
                if compressedBytesRead == 0 { throw StoreError.emptyFile(path: path) }
                return nil
            }
            let offset = aheadFileOffset + aheadStart
            let pointer = UnsafeRawPointer(ahead.baseAddress! + aheadStart)
            let size = ZSTD_findFrameCompressedSize(pointer, available)
            if ZSTD_isError(size) != 0 {
                let incomplete = ZSTD_getErrorCode(size) == ZSTD_error_srcSize_wrong
                if incomplete && !endOfFile {
                    guard mayRefill else { return nil }
                    if aheadStart == 0 && aheadFill == ahead.count {
                        guard ahead.count < Self.maxFrameBytes else {
                            throw StoreError.corrupt(path: path, frame: nextFrameIndex, byteOffset: offset, record: recordsSoFar,
                                                     reason: "a frame of more than \(Self.maxFrameBytes) compressed bytes; read with the streaming decoder")
                        }
                        growReadAhead()
                    }
                    try refill()
                    continue
                }
                if incomplete {
                    throw StoreError.truncated(path: path, frame: nextFrameIndex, byteOffset: offset, record: recordsSoFar)
                }
                var reason = String(cString: ZSTD_getErrorName(size))
                if nextFrameIndex == 0 && ZSTD_getErrorCode(size) == ZSTD_error_prefix_unknown {
                    reason += " (the file does not start with a zstd frame: not a zstd shard)"
                }
                throw StoreError.corrupt(path: path, frame: nextFrameIndex, byteOffset: offset, record: recordsSoFar, reason: reason)
            }
            let index = nextFrameIndex
            nextFrameIndex += 1
            aheadStart += size
            let magic = pointer.loadUnaligned(as: UInt32.self).littleEndian
            if magic & ZSTD_MAGIC_SKIPPABLE_MASK == ZSTD_MAGIC_SKIPPABLE_START { return .some(nil) }
            let content = ZSTD_getFrameContentSize(pointer, size)
            guard content != ZSTD_CONTENTSIZE_UNKNOWN, content != ZSTD_CONTENTSIZE_ERROR, content <= UInt64(Self.maxFrameBytes) else {
                throw StoreError.corrupt(path: path, frame: index, byteOffset: offset, record: recordsSoFar,
                                         reason: "frame header has no usable content size; read with one decoding thread")
            }
            return .some(FrameRef(start: aheadStart - size, size: size, index: index, offset: offset, contentSize: Int(content)))
        }
    }

    /// Doubles the read-ahead so that one large frame fits (bounded by maxFrameBytes).
    private func growReadAhead() {
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(ahead.count * 2, Self.maxFrameBytes), alignment: 64)
        bigger.baseAddress!.copyMemory(from: ahead.baseAddress!, byteCount: aheadFill)
        ahead.deallocate()
        ahead = bigger
    }

    /// Moves unread compressed bytes to the front of the read-ahead and reads more after them.
    private func refill() throws {
        let pending = aheadFill - aheadStart
        if aheadStart > 0 {
            if pending > 0 { ahead.baseAddress!.copyMemory(from: ahead.baseAddress! + aheadStart, byteCount: pending) }
            aheadFileOffset += aheadStart
            aheadStart = 0
            aheadFill = pending
        }
        let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: ahead[aheadFill...]))
        if n == 0 { endOfFile = true; return }
        if compressedHasher != nil { compressedHasher!.update(UnsafeRawBufferPointer(rebasing: ahead[aheadFill..<(aheadFill + n)])) }
        aheadFill += n
        compressedBytesRead += n
    }
}
