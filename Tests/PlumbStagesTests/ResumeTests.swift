// Killing a training stage and running the same command again resumes from the last checkpoint and
// ends with the same weights, bit for bit, as an uninterrupted run (issue 7, "Resume").
import Foundation
import XCTest
import PlumbStore

final class ResumeTests: XCTestCase {
    func plumbBinary() throws -> URL { try PlumbProcess.binary() }

    func runPlumb(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, Process.TerminationReason) {
        try PlumbProcess.run(arguments, environment: environment)
    }

    func sftArguments(_ f: StageFixtures.Fixture, out: URL) -> [String] {
        ["sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", "tiny", "--config", f.modelConfig.path,
         "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lr", "3e-3", "--gradient-accumulation", "2",
         "--checkpoint-every", "4", "--eval-every", "0", "--out", out.path]
    }

    func testKilledStageResumesToBitIdenticalWeights() throws {
        let f = try StageFixtures.fixture()
        _ = try plumbBinary()
        let runs = f.root.appendingPathComponent("resume-\(UUID().uuidString)")
        let uninterrupted = runs.appendingPathComponent("a/sft"), interrupted = runs.appendingPathComponent("b/sft")

        XCTAssertEqual(try runPlumb(sftArguments(f, out: uninterrupted)).0, 0)
        let reference = try StageManifest.read(from: uninterrupted)
        XCTAssertEqual(reference.status, .complete)
        let totalSteps = Int(reference.metrics["steps"] ?? 0)
        XCTAssertGreaterThan(totalSteps, 10, "the fixture must give enough steps to kill mid-way")

        // SIGKILL right after step 10: the checkpoint of step 8 exists, steps 9-10 are lost work.
        let (_, reason) = try runPlumb(sftArguments(f, out: interrupted), environment: ["PLUMB_KILL_AFTER_STEP": "10"])
        XCTAssertEqual(reason, .uncaughtSignal, "the child must die by the signal")
        XCTAssertEqual(try StageManifest.read(from: interrupted).status, .running, "a killed stage must not look complete")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: interrupted.appendingPathComponent("checkpoints").path)
        XCTAssertTrue(checkpoints.contains("step-00000008"), "checkpoints: \(checkpoints)")

        XCTAssertEqual(try runPlumb(sftArguments(f, out: interrupted)).0, 0)
        let resumed = try StageManifest.read(from: interrupted)
        XCTAssertEqual(resumed.status, .complete)
        let a = try XCTUnwrap(reference.artifacts.first { $0.name == "model.safetensors" })
        let b = try XCTUnwrap(resumed.artifacts.first { $0.name == "model.safetensors" })
        XCTAssertEqual(a.rawSHA256, b.rawSHA256, "resumed weights differ from the uninterrupted run's")
        XCTAssertEqual(a.rawBytes, b.rawBytes)
        let log = try String(contentsOf: interrupted.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains("\"resumed_at_step\":8"), "metrics.jsonl must record the resume point")
    }
}
