// Real processes: a writer killed mid-write leaves no complete-looking stage and a rerun completes;
// a second writer is refused naming the holder; the CLI's verify fails on damage. These spawn the
// built `plumb` binary (its hidden `shards _write-test` mode) and skip if it was not built.
import Foundation
import XCTest
@testable import PlumbStore

final class ProcessTests: XCTestCase {
    private func plumbBinary() throws -> String {
        let candidates = [Bundle.main.bundleURL.appendingPathComponent("plumb"),
                          Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("plumb")]
            + [Bundle(for: ProcessTests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("plumb")]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("the plumb binary is not built next to the tests (swift build first)")
        }
        return found.path
    }

    /// Starts `plumb shards _write-test` pausing after `pauseAfter` records; returns once it says "paused".
    private func startPausedWriter(root: URL, pauseAfter: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try plumbBinary())
        process.arguments = ["shards", "_write-test", "--root", root.path, "--records", "1000",
                             "--records-per-shard", "100", "--pause-after", String(pauseAfter)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        addTeardownBlock { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("paused") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty || Date() > deadline { XCTFail("writer did not pause: \(text)"); break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return process
    }

    private func killAndWait(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
    }

    func testKilledWriterLeavesNothingCompleteAndARerunCompletes() throws {
        let root = try makeScratchDirectory(self)
        let stageDirectory = root.appendingPathComponent("write-test/write")
        killAndWait(try startPausedWriter(root: root, pauseAfter: 450))

        XCTAssertEqual(try StageManifest.read(from: stageDirectory).status, .running)
        let entries = try FileManager.default.contentsOfDirectory(atPath: stageDirectory.path)
        XCTAssertTrue(entries.contains { $0.hasSuffix(".partial") }, "the killed writer had partial shards: \(entries)")
        XCTAssertFalse(entries.contains { ShardNaming.parse($0) != nil }, "no finished-looking shard: \(entries)")
        XCTAssertEqual(try RunCatalog.run(root.appendingPathComponent("write-test")).stages.map(\.state), [.interrupted])
        XCTAssertFalse(try Verifier.verify(stageDirectory).ok)
        XCTAssertThrowsError(try ShardReader(path: stageDirectory))

        let (status, out, err) = try runProcess(try plumbBinary(), ["shards", "_write-test", "--root", root.path,
                                                                    "--records", "1000", "--records-per-shard", "100"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("complete"))
        XCTAssertTrue(err.contains("took over the stale lock"), err)
        let manifest = try StageManifest.read(from: stageDirectory)
        XCTAssertEqual(manifest.status, .complete)
        XCTAssertEqual(manifest.outputs.first?.records, 1000)
        XCTAssertTrue(try Verifier.verify(stageDirectory).ok)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: stageDirectory.path).contains { $0.hasSuffix(".partial") })
        XCTAssertEqual(try ShardReader(path: stageDirectory).readAll(JSONValue.self).count, 1000)
    }

    func testSecondWriterIsRefusedWhileAnotherProcessWrites() throws {
        let root = try makeScratchDirectory(self)
        let child = try startPausedWriter(root: root, pauseAfter: 10)
        XCTAssertThrowsError(try StageWriter.begin(runsRoot: root, run: "write-test", stage: "other", kind: "k",
                                                   config: [String: Int](), code: CodeVersion(commit: nil, dirty: nil), log: { _ in })) {
            XCTAssertTrue("\($0)".contains("locked by pid \(child.processIdentifier)"), "\($0)")
        }
        if case .held(let holder) = RunLock.probe(runDirectory: root.appendingPathComponent("write-test")) {
            XCTAssertEqual(holder?.pid, child.processIdentifier)
        } else {
            XCTFail("the child's lock is not seen as held")
        }
        killAndWait(child)
    }

    func testCLIVerifyFailsOnDamageAndStatsReportSchemas() throws {
        let plumb = try plumbBinary()
        let root = try makeScratchDirectory(self)
        XCTAssertEqual(try runProcess(plumb, ["shards", "_write-test", "--root", root.path, "--records", "250"]).0, 0)
        let run = root.appendingPathComponent("write-test")
        let (okStatus, _, _) = try runProcess(plumb, ["shards", "verify", run.path])
        XCTAssertEqual(okStatus, 0)
        let (_, statsOut, _) = try runProcess(plumb, ["shards", "stats", run.path, "--json"])
        let stats = try JSONSerialization.jsonObject(with: statsOut) as? [String: Any]
        XCTAssertEqual(stats?["records"] as? Int, 250)
        XCTAssertEqual(stats?["schemas"] as? [String: Int], ["write-test/1": 250])

        let shard = run.appendingPathComponent("write/records-00001-of-00003.jsonl.zst")
        var bytes = Array(try Data(contentsOf: shard))
        bytes[bytes.count / 3] ^= 0x40
        try Data(bytes).write(to: shard)
        let (status, out, _) = try runProcess(plumb, ["shards", "verify", run.path])
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertEqual(status, 1)
        XCTAssertTrue(text.split(separator: "\n").contains { $0.hasPrefix("FAIL") && $0.contains(shard.path) }, text)
        XCTAssertTrue(text.contains("1 with problems"), text)
    }
}
