// Streaming reads: bounded memory over more data than the buffer, and seeded shuffled reads.
import Foundation
import XCTest
@testable import PlumbStore

final class StreamingTests: XCTestCase {
    func testReadsMuchMoreDataThanItsFixedBuffer() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.maxRecordsPerShard = 4000
        let files = try writeSamples(12_000, to: dir, options: options)
        let totalRaw = files.reduce(0) { $0 + $1.rawBytes }
        var readOptions = ShardReader.Options()
        readOptions.maxRecordBytes = 4096                        // a window far smaller than the data
        readOptions.decoding = .streaming                        // the streaming decoder: fixed buffers
        let reader = try ShardReader(path: dir, options: readOptions)
        var bound = 0
        var count = 0
        while let line = try reader.nextLine() {
            XCTAssertLessThanOrEqual(line.count, 4096)
            if bound == 0 { bound = reader.lineBufferBytes }
            XCTAssertEqual(reader.lineBufferBytes, bound, "the buffer changed size at record \(count + 1)")
            count += 1
        }
        XCTAssertEqual(count, 12_000)
        XCTAssertLessThanOrEqual(bound, 4096 + (256 << 10), "window plus zstd input buffer")
        XCTAssertGreaterThan(totalRaw, 20 * bound, "the data must be much larger than the buffer")
    }

    func testParallelDecodingHoldsAtMostAFewFrames() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.frameRawBytes = 64 << 10
        let files = try writeSamples(20_000, to: dir, options: options)
        XCTAssertGreaterThan(files[0].frames, 20)
        var readOptions = ShardReader.Options()
        readOptions.decoding = .frames(threads: 2)
        let reader = try ShardReader(path: dir, options: readOptions)
        var largest = 0, count = 0
        while let _ = try reader.nextLine() {
            largest = max(largest, reader.lineBufferBytes)
            count += 1
        }
        XCTAssertEqual(count, 20_000)
        // line window + 8 MiB read-ahead + 4 slots of one frame (64 KiB plus at most one record) each
        XCTAssertLessThanOrEqual(largest, readOptions.maxRecordBytes + (8 << 20) + 4 * ((64 << 10) + 1024))
    }

    func testStreamingAndParallelDecodingReadTheSameRecords() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.frameRawBytes = 16 << 10
        options.maxRecordsPerShard = 1500
        try writeSamples(5000, to: dir, options: options)
        var streaming = ShardReader.Options()
        streaming.decoding = .streaming
        let expected = try ShardReader(path: dir, options: streaming).readAll(SampleRecord.self)
        XCTAssertEqual(expected, (0..<5000).map(sampleRecord))
        for threads in [1, 2, 3] {
            var frames = ShardReader.Options()
            frames.decoding = .frames(threads: threads)
            XCTAssertEqual(try ShardReader(path: dir, options: frames).readAll(SampleRecord.self), expected, "\(threads) threads")
        }
    }

    func testShuffleBufferBoundsHowEarlyARecordCanComeOut() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.maxRecordsPerShard = 400
        try writeSamples(2000, to: dir, options: options)
        let buffer = 64
        let reader = try ShardReader(path: dir, options: ShardReader.Options(order: .shuffled(seed: 5, bufferRecords: buffer)))
        // In-order position of each record once the shard order is shuffled (reader.files is that order).
        var inOrder: [Int: Int] = [:]
        for file in reader.files {
            for record in try ShardReader(files: [file]).readAll(SampleRecord.self) { inOrder[record.id] = inOrder.count }
        }
        XCTAssertNotEqual(reader.files.map(\.lastPathComponent).sorted(), reader.files.map(\.lastPathComponent), "shard order shuffled")
        var position = 0
        while let record = try reader.next(SampleRecord.self) {
            XCTAssertLessThanOrEqual(inOrder[record.id]!, position + buffer - 1, "record \(record.id) came out too early")
            position += 1
        }
        XCTAssertEqual(position, 2000)
    }

    func testRecordLongerThanTheWindowIsAnErrorNotAGrowth() throws {
        let dir = try makeScratchDirectory(self)
        let writer = try ShardWriter(directory: dir, name: "long")
        try writer.append(SampleRecord(id: 0, text: "short"))
        try writer.append(SampleRecord(id: 1, text: String(repeating: "x", count: 10_000)))
        _ = try writer.finish()
        var options = ShardReader.Options()
        options.maxRecordBytes = 1024
        let reader = try ShardReader(path: dir, options: options)
        XCTAssertNotNil(try reader.nextLine())
        XCTAssertThrowsError(try reader.nextLine()) { XCTAssertTrue("\($0)".contains("record 2 is longer"), "\($0)") }
    }

    private func shuffledIDs(_ dir: URL, seed: UInt64, buffer: Int) throws -> [Int] {
        let reader = try ShardReader(path: dir, options: ShardReader.Options(order: .shuffled(seed: seed, bufferRecords: buffer)))
        return try reader.readAll(SampleRecord.self).map(\.id)
    }

    func testShuffledReadIsASeededReproduciblePermutation() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.maxRecordsPerShard = 500
        try writeSamples(3000, to: dir, options: options)
        let a = try shuffledIDs(dir, seed: 11, buffer: 256)
        XCTAssertEqual(a.sorted(), Array(0..<3000), "a permutation: nothing lost or repeated")
        XCTAssertEqual(a, try shuffledIDs(dir, seed: 11, buffer: 256), "same seed, same order")
        XCTAssertNotEqual(a, try shuffledIDs(dir, seed: 12, buffer: 256), "another seed, another order")
        XCTAssertNotEqual(a, Array(0..<3000))
        let displaced = a.enumerated().filter { abs($0.offset - $0.element) > 0 }.count
        XCTAssertGreaterThan(displaced, 2900, "records actually move")
    }
}
