// Damaged shards: each kind of damage is an error that names the file and, where zstd can tell,
// the frame and record; never a crash, never silently fewer records.
import Foundation
import XCTest
@testable import PlumbStore

final class DamageTests: XCTestCase {
    /// A shard of 2000 records in several frames, returned with its bytes.
    private func makeShard() throws -> (URL, [UInt8], ShardFileInfo) {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.frameRawBytes = 32 << 10
        options.zstd.workers = 0
        let info = try writeSamples(2000, to: dir, options: options)[0]
        let url = dir.appendingPathComponent(info.file)
        XCTAssertGreaterThan(info.frames, 3)
        return (url, Array(try Data(contentsOf: url)), info)
    }

    /// Reads every record of `url` with the streaming decoder and the frame decoder (1 and 2 threads); returns the
    /// count or the first error (both decoders must agree on whether the shard is damaged).
    private func readAll(_ url: URL) -> Result<Int, StoreError> {
        let streaming = readAll(url, .streaming)
        for decoding in [ShardReader.Decoding.frames(threads: 1), .frames(threads: 2)] {
            let frames = readAll(url, decoding)
            switch (streaming, frames) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a, b)
            case (.failure, .failure): break
            default: XCTFail("decoders disagree on \(url.lastPathComponent): streaming \(streaming), \(decoding) \(frames)")
            }
            if case .failure = frames { return frames }
        }
        return streaming
    }

    private func readAll(_ url: URL, _ decoding: ShardReader.Decoding) -> Result<Int, StoreError> {
        var options = ShardReader.Options()
        options.decoding = decoding
        let reader = ShardReader(files: [url], options: options)
        var count = 0
        do {
            while try reader.nextLine() != nil { count += 1 }
            return .success(count)
        } catch let error as StoreError {
            return .failure(error)
        } catch {
            XCTFail("unexpected error type \(error)")
            return .success(-1)
        }
    }

    private func expectError(_ url: URL, containing parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        switch readAll(url) {
        case .success(let n): XCTFail("read \(n) records from a damaged shard without error", file: file, line: line)
        case .failure(let error):
            let text = error.description
            XCTAssertTrue(text.contains(url.path), "error does not name the file: \(text)", file: file, line: line)
            for part in parts { XCTAssertTrue(text.contains(part), "'\(part)' missing from: \(text)", file: file, line: line) }
        }
    }

    func testTruncatedInsideAFrameNamesFrameAndRecord() throws {
        let (url, bytes, _) = try makeShard()
        try Data(bytes[0..<(bytes.count / 2)]).write(to: url)
        expectError(url, containing: ["truncated", "frame", "after record"])
    }

    func testTruncatedAtAFrameBoundaryIsNotSilentlyShorter() throws {
        let (url, bytes, _) = try makeShard()
        try Data(bytes[0..<(bytes.count - EndMarker.size)]).write(to: url)   // drop only the end marker
        expectError(url, containing: ["end-of-shard marker", "cut short"])
    }

    func testBitFlipIsReported() throws {
        let (url, bytes, _) = try makeShard()
        var rng = SplitMix64(seed: 3)
        for trial in 0..<20 {
            var damaged = bytes
            let offset = 20 + rng.below(bytes.count - 20 - EndMarker.size)
            damaged[offset] ^= UInt8(1 << rng.below(8))
            try Data(damaged).write(to: url)
            if case .success(let n) = readAll(url) { XCTFail("trial \(trial): flip at \(offset) read \(n) records without error") }
        }
        var damaged = bytes
        damaged[bytes.count / 2] ^= 0x10
        try Data(damaged).write(to: url)
        expectError(url, containing: ["frame"])
    }

    func testEmptyFile() throws {
        let (url, _, _) = try makeShard()
        try Data().write(to: url)
        expectError(url, containing: ["empty file"])
    }

    func testNonZstdFile() throws {
        let (url, _, _) = try makeShard()
        try Data("{\"schema\": \"sample/1\", \"id\": 1}\n".utf8).write(to: url)
        expectError(url, containing: ["frame 0", "not a zstd shard"])
    }

    func testVerifyReportsDamageAgainstTheManifest() throws {
        let runs = try makeScratchDirectory(self)
        let stage = try StageWriter.begin(runsRoot: runs, run: "r", stage: "s", kind: "k", config: [String: Int](),
                                          code: CodeVersion(commit: nil, dirty: nil), log: { _ in })
        var options = ShardWriter.Options()
        options.maxRecordsPerShard = 100
        let writer = try stage.shardWriter(name: "samples", options: options)
        for i in 0..<300 { try writer.append(sampleRecord(i)) }
        let files = try writer.finish()
        try stage.addOutput(name: "samples", files: files)
        try stage.complete()
        XCTAssertTrue(try Verifier.verify(runs.appendingPathComponent("r")).ok)

        let first = stage.directory.appendingPathComponent(files[0].file)
        var bytes = Array(try Data(contentsOf: first))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: first)
        try FileManager.default.removeItem(at: stage.directory.appendingPathComponent(files[2].file))
        let report = try Verifier.verify(stage.directory)
        XCTAssertFalse(report.ok)
        let bad = report.findings.filter { !$0.ok }
        XCTAssertEqual(bad.map { URL(fileURLWithPath: $0.file).lastPathComponent }, [files[0].file, files[2].file])
        XCTAssertTrue(bad[0].problems.contains { $0.contains("sha256") }, "\(bad[0].problems)")
        XCTAssertEqual(bad[1].problems, ["missing"])
    }

    func testRunningStageIsNotReportedComplete() throws {
        let runs = try makeScratchDirectory(self)
        let stage = try StageWriter.begin(runsRoot: runs, run: "r", stage: "s", kind: "k", config: [String: Int](),
                                          code: CodeVersion(commit: nil, dirty: nil), log: { _ in })
        let report = try Verifier.verify(stage.directory)
        XCTAssertFalse(report.ok)
        XCTAssertTrue(report.findings[0].problems[0].contains("status is running"))
        try stage.complete()
    }
}
