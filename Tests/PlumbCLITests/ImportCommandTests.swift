// `plumb import` as the import stage kind run by hand: its files are positional, a true/false key may
// stand alone before a file, an unknown flag or a bad value is refused naming the key, and the same
// import by hand and in a pipeline file writes the same bytes under the same cache key, naming its
// file relative to the run's directory (not the working directory).
import Foundation
import PlumbData
import PlumbEval
import PlumbStages
import PlumbStore
import XCTest
@testable import PlumbCLI
@testable import PlumbPipeline

final class ImportCommandTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-import-command-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func testFlagsPositionalFilesAndSwitches() throws {
        let (entries, inputs, out) = try StageFlags.parse(["a.jsonl", "--keep-ties", "b.jsonl", "--validation-fraction", "0",
                                                             "--label-config", "c.xml", "--out", "o"], stage: DataImportStage.self)
        XCTAssertEqual(entries.map(\.key), ["keep-ties", "validation-fraction"])
        XCTAssertEqual(entries.map(\.values), [["true"], ["0"]])
        XCTAssertEqual(inputs.all("file").map(\.lastPathComponent), ["a.jsonl", "b.jsonl"], "a word after a switch is a file")
        XCTAssertEqual(inputs.optional("label-config")?.lastPathComponent, "c.xml")
        XCTAssertEqual(out, "o")
        let (explicit, _, _) = try StageFlags.parse(["a.jsonl", "--keep-ties", "false"], stage: DataImportStage.self)
        XCTAssertEqual(explicit.first?.values, ["false"], "a switch takes true or false when given")

        for (flags, key) in [(["--colour", "red"], "colour"), (["--validation-fraction", "lots"], "validation-fraction"),
                             (["--format", "no-such-format"], "format"), (["--columns", "prompt"], "columns")] {
            let command = try ImportCommand.parse([root.appendingPathComponent("x.jsonl").path] + flags + ["--out", root.appendingPathComponent("r/i").path])
            XCTAssertThrowsError(try command.run(), key) { XCTAssertTrue("\($0)".contains(key), "\($0) names \(key)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("r/i/manifest.json").path), "nothing written")
    }

    /// `plumb import --help`: the positional slot, every key with its default (none for an unset optional).
    func testHelpListsTheSlotsAndEachKeysDefault() throws {
        let lines = try StageFlags.describe(DataImportStage.self).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("  [--file] FILE") }, "\(lines)")
        for expected in ["  --validation-fraction  0.05", "  --keep-ties  false", "  --format  \"auto\"", "  --dimension  \"helpfulness\"", "  --columns"] {
            XCTAssertTrue(lines.contains(expected), "\(expected) in \(lines)")
        }
        XCTAssertEqual(lines.filter { $0.hasPrefix("  --") && !$0.hasPrefix("  --label-config") && !$0.hasPrefix("  --texts") }.count,
                       try DataImportStage.acceptedKeys().count)
    }

    /// The task's comparisons imported by hand (`plumb import FILE --out`) and by a pipeline file: the
    /// same content checksum and cache key; the records name the file `task/comparisons.jsonl`.
    func testByHandAndInAPipelineFileWriteTheSameBytes() throws {
        var task = try PlumbCommand.parseAsRoot(["task", "generate", "--quick", "--seed", "3", "--out", root.appendingPathComponent("runs/hand/task").path])
        try task.run()
        let hand = root.appendingPathComponent("runs/hand/import")
        let command = try ImportCommand.parse([root.appendingPathComponent("runs/hand/task/comparisons.jsonl").path, "--validation-fraction", "0.1",
                                               "--out", hand.path])
        try command.run()

        let file = root.appendingPathComponent("import.yaml")
        try Data("""
        stages:
          task:
            kind: task generate
            options: {quick: true, seed: 3}
          import:
            kind: import
            inputs: {file: task/comparisons.jsonl}
            options: {validation-fraction: 0.1}

        """.utf8).write(to: file)
        var services = PipelineServices.standard
        services.log = { _ in }
        let session = try PipelineSession.open(file: file.path, run: root.appendingPathComponent("runs/file"), previous: nil, profile: nil,
                                               overrides: [:], acceptCodeChange: false, services: services)
        try session.runner.execute()
        let inFile = root.appendingPathComponent("runs/file/import")
        XCTAssertEqual(try StageContent.checksum(hand), try StageContent.checksum(inFile))
        XCTAssertEqual(try StageManifest.read(from: hand).cacheKey, try StageManifest.read(from: inFile).cacheKey)
        XCTAssertEqual(try PipelineStageRecord.read(inFile)?.key, try StageManifest.read(from: inFile).cacheKey)
        let sources = try ShardReader(path: inFile, output: "sources")
        let first = try XCTUnwrap(try sources.next(SourceLine.self))
        XCTAssertEqual(first.counts.file, "task/comparisons.jsonl")
        let summary = try StageRun.summary(DataImportStage.self, of: inFile)
        XCTAssertEqual(summary.metrics["accepted"], try StageManifest.read(from: inFile).metrics["accepted"])
        XCTAssertGreaterThan(summary.metrics["accepted"] ?? 0, 0)
    }

    struct SourceLine: Decodable { var counts: SourceCounts }
}
