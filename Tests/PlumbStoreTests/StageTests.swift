// Stage directories: manifest contents and checksums, cache keys, lineage, locking, artifacts.
import Foundation
import XCTest
@testable import PlumbStore

private struct DemoConfig: Codable { var learningRate = 1e-5; var epochs = 2; var name = "demo" }

final class StageTests: XCTestCase {
    private let code = CodeVersion(commit: String(repeating: "a", count: 40), dirty: false)

    func testCompleteStageManifestMatchesFiles() throws {
        let runs = try makeScratchDirectory(self)
        let stage = try StageWriter.begin(runsRoot: runs, run: "r1", stage: "import", kind: "import",
                                          config: DemoConfig(), seed: 7, code: code, log: { _ in })
        XCTAssertEqual(try StageManifest.read(from: stage.directory).status, .running)
        let writer = try stage.shardWriter(name: "comparisons")
        for i in 0..<250 { try writer.append(sampleRecord(i)) }
        try stage.addOutput(name: "comparisons", files: try writer.finish())
        stage.setMetric("records", 250)
        try stage.complete()

        let manifest = try StageManifest.read(from: runs.appendingPathComponent("r1/import"))
        XCTAssertEqual(manifest.status, .complete)
        XCTAssertEqual(manifest.seed, 7)
        XCTAssertEqual(manifest.metrics["records"], 250)
        XCTAssertEqual(manifest.outputs.map(\.records), [250])
        for file in manifest.outputs[0].files {
            let url = stage.directory.appendingPathComponent(file.file)
            XCTAssertEqual(try SHA256.hex(ofFile: url), file.sha256)
            XCTAssertEqual(try Data(contentsOf: url).count, file.compressedBytes)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs.appendingPathComponent("r1/.lock").path), "lock released")
    }

    func testCacheKeyDependsOnKindConfigInputsAndCode() throws {
        let config = try JSONValue(encoding: DemoConfig())
        let base = try CacheKey.compute(kind: "sft", config: config, inputSHA256s: ["x"], code: code)
        XCTAssertEqual(base, try CacheKey.compute(kind: "sft", config: config, inputSHA256s: ["x"], code: code))
        var other = DemoConfig(); other.epochs = 3
        XCTAssertNotEqual(base, try CacheKey.compute(kind: "dpo", config: config, inputSHA256s: ["x"], code: code))
        XCTAssertNotEqual(base, try CacheKey.compute(kind: "sft", config: JSONValue(encoding: other), inputSHA256s: ["x"], code: code))
        XCTAssertNotEqual(base, try CacheKey.compute(kind: "sft", config: config, inputSHA256s: ["y"], code: code))
        XCTAssertNotEqual(base, try CacheKey.compute(kind: "sft", config: config, inputSHA256s: ["x"],
                                                     code: CodeVersion(commit: code.commit, dirty: true)))
    }

    /// A config naming stages by absolute path: the same run under two runs roots has one key; another
    /// stage, or a path outside the runs root, does not.
    func testCacheKeyDoesNotDependOnWhereTheRunsRootIs() throws {
        struct PathConfig: Encodable { var policy: String; var inputs: [String] }
        let a = try makeScratchDirectory(self), b = try makeScratchDirectory(self)
        func key(_ root: URL, policy: String, other: String = "/data/x.jsonl") throws -> String {
            let config = try JSONValue(encoding: PathConfig(policy: root.appendingPathComponent(policy).path, inputs: [other]))
            return try StageWriter.begin(runsRoot: root, run: "r", stage: "s-\(UUID().uuidString.prefix(8))", kind: "rs", config: config,
                                         code: code, log: { _ in }).manifest.cacheKey
        }
        XCTAssertEqual(try key(a, policy: "r/sft"), try key(b, policy: "r/sft"))
        XCTAssertNotEqual(try key(a, policy: "r/sft"), try key(a, policy: "r/sft-rs"))
        XCTAssertNotEqual(try key(a, policy: "r/sft"), try key(a, policy: "r/sft", other: "/data/y.jsonl"))
        XCTAssertEqual(CacheKey.locationIndependent(.string(a.path + "/r/sft"), runsRoot: a), .string("runs:r/sft"))
        XCTAssertEqual(CacheKey.locationIndependent(.string(a.path + "-other/r/sft"), runsRoot: a), .string(a.path + "-other/r/sft"))
    }

    func testInputsRecordChecksumAndLineage() throws {
        let runs = try makeScratchDirectory(self)
        let first = try StageWriter.begin(runsRoot: runs, run: "r", stage: "import", kind: "import", config: DemoConfig(), code: code, log: { _ in })
        let files = try writeSamples(40, to: first.directory, name: "prompts")
        try first.addOutput(name: "prompts", files: files)
        try first.complete()
        let input = first.directory.appendingPathComponent(files[0].file)
        let second = try StageWriter.begin(runsRoot: runs, run: "r", stage: "sft", kind: "sft", config: DemoConfig(),
                                           inputs: [input], code: code, log: { _ in })
        XCTAssertEqual(second.manifest.inputs.first?.producedBy, "r/import")
        XCTAssertEqual(second.manifest.inputs.first?.sha256, files[0].sha256)
        try second.complete()
        XCTAssertNotNil(StageWriter.completed(runsRoot: runs, run: "r", stage: "sft", cacheKey: second.manifest.cacheKey))
        XCTAssertNil(StageWriter.completed(runsRoot: runs, run: "r", stage: "sft", cacheKey: "other"))
    }

    func testSecondWriterIsRefusedNamingTheHolder() throws {
        let runs = try makeScratchDirectory(self)
        let holder = try StageWriter.begin(runsRoot: runs, run: "r", stage: "a", kind: "k", config: DemoConfig(), code: code, log: { _ in })
        XCTAssertThrowsError(try StageWriter.begin(runsRoot: runs, run: "r", stage: "b", kind: "k", config: DemoConfig(), code: code, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("locked by pid \(getpid())"), "\($0)")
        }
        try holder.complete()
        let next = try StageWriter.begin(runsRoot: runs, run: "r", stage: "b", kind: "k", config: DemoConfig(), code: code, log: { _ in })
        try next.complete()
    }

    func testCompleteStageIsNotOverwrittenByDefault() throws {
        let runs = try makeScratchDirectory(self)
        try StageWriter.begin(runsRoot: runs, run: "r", stage: "a", kind: "k", config: DemoConfig(), code: code, log: { _ in }).complete()
        XCTAssertThrowsError(try StageWriter.begin(runsRoot: runs, run: "r", stage: "a", kind: "k", config: DemoConfig(), code: code, log: { _ in }))
    }

    func testFailedStageRecordsTheError() throws {
        let runs = try makeScratchDirectory(self)
        let stage = try StageWriter.begin(runsRoot: runs, run: "r", stage: "a", kind: "k", config: DemoConfig(), code: code, log: { _ in })
        stage.fail(StoreError.badInput("out of data"))
        let manifest = try StageManifest.read(from: stage.directory)
        XCTAssertEqual(manifest.status, .failed)
        XCTAssertEqual(manifest.error, "out of data")
    }

    /// `finish` completes the stage with the body's result, or records the body's error, rethrows it
    /// and releases the lock either way.
    func testFinishCompletesOrFailsTheStage() throws {
        let runs = try makeScratchDirectory(self)
        let ok = try StageWriter.begin(runsRoot: runs, run: "r", stage: "a", kind: "k", config: DemoConfig(), code: code, log: { _ in })
        XCTAssertEqual(try ok.finish { 42 }, 42)
        XCTAssertEqual(try StageManifest.read(from: ok.directory).status, .complete)
        let bad = try StageWriter.begin(runsRoot: runs, run: "r", stage: "b", kind: "k", config: DemoConfig(), code: code, log: { _ in })
        XCTAssertThrowsError(try bad.finish { () throws -> Int in throw StoreError.badInput("no records") }) {
            XCTAssertEqual("\($0)", "no records")
        }
        let manifest = try StageManifest.read(from: bad.directory)
        XCTAssertEqual(manifest.status, .failed)
        XCTAssertEqual(manifest.error, "no records")
        // The lock is free again: a third stage of the run can begin.
        try StageWriter.begin(runsRoot: runs, run: "r", stage: "c", kind: "k", config: DemoConfig(), code: code, log: { _ in }).complete()
    }

    func testArtifactStoreAndExportRoundTrip() throws {
        let runs = try makeScratchDirectory(self)
        let source = runs.appendingPathComponent("model.safetensors")
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        var rng = SplitMix64(seed: 1)
        for i in stride(from: 0, to: bytes.count, by: 4) { bytes[i] = UInt8(truncatingIfNeeded: rng.next() & 0x0f) }
        try Data(bytes).write(to: source)
        let stage = try StageWriter.begin(runsRoot: runs, run: "r", stage: "sft", kind: "sft", config: DemoConfig(), code: code, log: { _ in })
        let artifact = try stage.storeArtifact(name: "model.safetensors", from: source)
        try stage.complete()
        XCTAssertEqual(artifact.rawBytes, bytes.count)
        XCTAssertEqual(artifact.rawSHA256, SHA256.hex(of: Data(bytes)))
        XCTAssertLessThan(artifact.compressedBytes, bytes.count / 2)
        let out = runs.appendingPathComponent("exported.safetensors")
        try ArtifactStore.export(artifact, from: stage.directory, to: out)
        XCTAssertEqual(try Data(contentsOf: out), Data(bytes))
        XCTAssertTrue(try Verifier.verify(stage.directory).ok)

        let stored = stage.directory.appendingPathComponent(artifact.file)
        var compressed = Array(try Data(contentsOf: stored))
        compressed[compressed.count / 2] ^= 0x08
        try Data(compressed).write(to: stored)
        XCTAssertThrowsError(try ArtifactStore.export(artifact, from: stage.directory, to: out))
        let finding = try Verifier.verify(stage.directory).findings.first { $0.file == stored.path }
        XCTAssertEqual(finding?.ok, false)
    }
}
