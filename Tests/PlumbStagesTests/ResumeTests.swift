// Killing a training stage and running the same command again resumes from the last checkpoint and
// ends with the same weights, bit for bit, as an uninterrupted run; metrics.jsonl then holds every
// step once. With the newest checkpoint damaged and a partial checkpoint directory left behind, the
// rerun removes the directory, resumes from the checkpoint before, and still ends bit-identical.
import Foundation
import XCTest
import PlumbStore

final class ResumeTests: XCTestCase {
    func plumbBinary() throws -> URL { try PlumbProcess.binary() }

    /// Runs `plumb` as a child process; returns its termination status and reason, and its stderr.
    @discardableResult
    func runPlumb(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, Process.TerminationReason, String) {
        let process = Process()
        process.executableURL = try plumbBinary()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-resume-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }

    /// An uninterrupted run's manifest, and a run killed right after step 10 (checkpoints of steps
    /// 4 and 8 on disk, steps 9-10 lost), made once per test process; each test resumes a copy.
    static var runs: Result<(reference: StageManifest, killed: URL), Error>?

    func referenceAndKilledRun() throws -> (reference: StageManifest, killed: URL) {
        if Self.runs == nil {
            Self.runs = Result {
                let f = try StageFixtures.fixture()
                let root = f.root.appendingPathComponent("resume-\(UUID().uuidString)")
                let uninterrupted = root.appendingPathComponent("a/sft"), interrupted = root.appendingPathComponent("b/sft")
                XCTAssertEqual(try runPlumb(sftArguments(f, out: uninterrupted)).0, 0)
                let (_, reason, _) = try runPlumb(sftArguments(f, out: interrupted), environment: ["PLUMB_KILL_AFTER_STEP": "10"])
                XCTAssertEqual(reason, .uncaughtSignal, "the child must die by the signal")
                return (try StageManifest.read(from: uninterrupted), interrupted)
            }
        }
        return try Self.runs!.get()
    }

    /// A fresh copy of the killed run's stage directory, to resume.
    func copyOfKilledRun(_ killed: URL, as run: String) throws -> URL {
        let runDirectory = killed.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(run)
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let copy = runDirectory.appendingPathComponent("sft")
        try FileManager.default.copyItem(at: killed, to: copy)
        return copy
    }

    /// The step numbers of metrics.jsonl's lines of `event`, in file order.
    func loggedSteps(_ stage: URL, event: String) throws -> [Int] {
        let text = try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["event"] as? String == event ? object?["step"] as? Int : nil
        }
    }

    func assertSameWeights(_ reference: StageManifest, _ stage: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let resumed = try StageManifest.read(from: stage)
        XCTAssertEqual(resumed.status, .complete, file: file, line: line)
        let a = try XCTUnwrap(reference.artifacts.first { $0.name == "model.safetensors" })
        let b = try XCTUnwrap(resumed.artifacts.first { $0.name == "model.safetensors" })
        XCTAssertEqual(a.rawSHA256, b.rawSHA256, "resumed weights differ from the uninterrupted run's", file: file, line: line)
        XCTAssertEqual(a.rawBytes, b.rawBytes, file: file, line: line)
    }

    func sftArguments(_ f: StageFixtures.Fixture, out: URL) -> [String] {
        ["sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", "tiny", "--config", f.modelConfig.path,
         "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lr", "3e-3", "--gradient-accumulation", "2",
         "--checkpoint-every", "4", "--eval-every", "0", "--out", out.path]
    }

    func testKilledStageResumesToBitIdenticalWeights() throws {
        let (reference, killed) = try referenceAndKilledRun()
        let totalSteps = Int(reference.metrics["steps"] ?? 0)
        XCTAssertGreaterThan(totalSteps, 10, "the fixture must give enough steps to kill mid-way")
        XCTAssertEqual(try StageManifest.read(from: killed).status, .running, "a killed stage must not look complete")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: killed.appendingPathComponent("checkpoints").path)
        XCTAssertTrue(checkpoints.contains("step-00000008"), "checkpoints: \(checkpoints)")
        XCTAssertEqual(try loggedSteps(killed, event: "step"), Array(1...10), "the killed run logged steps 9 and 10 past its checkpoint")

        let stage = try copyOfKilledRun(killed, as: "resumed")
        XCTAssertEqual(try runPlumb(sftArguments(try StageFixtures.fixture(), out: stage)).0, 0)
        try assertSameWeights(reference, stage)
        let log = try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains("\"resumed_at_step\":8"), "metrics.jsonl must record the resume point")
        XCTAssertEqual(try loggedSteps(stage, event: "step"), Array(1...totalSteps), "every step once, in order: steps 9-10 cut back")
    }

    func testDamagedNewestCheckpointFallsBackAndLeftoverPartialIsRemoved() throws {
        let (reference, killed) = try referenceAndKilledRun()
        let stage = try copyOfKilledRun(killed, as: "damaged")
        let checkpoints = stage.appendingPathComponent("checkpoints")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted(), ["step-00000004", "step-00000008"])
        // One weight byte of the newest checkpoint flipped: the file still parses, its checksum does not match.
        let weights = checkpoints.appendingPathComponent("step-00000008/model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: weights)
        // What a writer killed inside `TrainingCheckpoint.save` leaves.
        let partial = checkpoints.appendingPathComponent(".partial-step-00000012-4242")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 100).write(to: partial.appendingPathComponent("model.safetensors"))

        let (status, _, errors) = try runPlumb(sftArguments(try StageFixtures.fixture(), out: stage))
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("step-00000008 is unreadable") && errors.contains("resuming from step-00000004"), errors)
        XCTAssertTrue(errors.contains(".partial-step-00000012-4242"), errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path))
        try assertSameWeights(reference, stage)
        let log = try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains("\"resumed_at_step\":4"), log)
        XCTAssertEqual(try loggedSteps(stage, event: "step"), Array(1...Int(reference.metrics["steps"] ?? 0)))
        XCTAssertEqual(try loggedSteps(stage, event: "checkpoint").filter { $0 <= 8 }, [4, 8], "checkpoint 8 logged once, after it was written again")
    }
}
