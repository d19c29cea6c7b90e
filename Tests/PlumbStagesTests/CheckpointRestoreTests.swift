// Restoring a training checkpoint in-process: an unreadable newest checkpoint (trainer.json missing,
// a safetensors file cut short, a file whose SHA-256 differs from the one recorded) is skipped for
// the one before; leftover partial directories are removed; metrics.jsonl is cut back to the step.
import Foundation
import XCTest
import PlumbModel
import PlumbTensor
@testable import PlumbStages

final class CheckpointRestoreTests: XCTestCase {
    var root: URL!

    func values(_ model: LlamaModel) -> [Float] {
        Array(UnsafeBufferPointer(start: model.parameters.values.base, count: model.parameters.values.count))
    }

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-ckpt-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// Saves checkpoints of steps 1 and 2 of a tiny model, each with different weights; returns the
    /// parameter values saved at each step.
    func saveTwoSteps() throws -> [Int: [Float]] {
        let model = try LlamaModel(config: LlamaPreset.tiny.config, seed: 5)
        let optimizer = AdamW(parameters: model.parameters)
        var saved: [Int: [Float]] = [:]
        for step in 1...2 {
            let g = model.parameters.gradients
            for i in 0..<g.count { g.base[i] = Float(i % 7) * 0.01 }
            try optimizer.update(model.parameters, learningRate: 1e-2)
            let header = try optimizer.saveState(parameters: model.parameters, rng: nil).header
            let state = TrainerState(step: step, totalSteps: 10, optimizer: header, tokens: 100 * step, initialEvaluation: [:])
            try TrainingCheckpoint.save(model: model, optimizer: optimizer, state: state, root: root, keep: 2)
            saved[step] = values(model)
        }
        return saved
    }

    /// Restores into a fresh model; returns the state, the restored values and the notices logged.
    func restore() throws -> (TrainerState?, [Float], [String]) {
        let model = try LlamaModel(config: LlamaPreset.tiny.config, seed: 99)
        let optimizer = AdamW(parameters: model.parameters)
        var notices: [String] = []
        let state = try TrainingCheckpoint.restoreLatest(root: root, model: model, optimizer: optimizer, totalSteps: 10) { notices.append($0) }
        return (state, values(model), notices)
    }

    func newest(_ file: String) -> URL { root.appendingPathComponent("step-00000002").appendingPathComponent(file) }

    func testIntactNewestCheckpointIsRestoredExactly() throws {
        let saved = try saveTwoSteps()
        let (state, values, notices) = try restore()
        XCTAssertEqual(state?.step, 2)
        XCTAssertEqual(values, saved[2], "restored weights must be bit-identical to the saved ones")
        XCTAssertEqual(notices, [])
        XCTAssertEqual(Set(state?.files?.keys.map { $0 } ?? []), ["config.json", "model.safetensors", "optimizer.safetensors"])
    }

    func testEachKindOfUnreadableNewestFallsBackToThePrevious() throws {
        let damages: [(String, (CheckpointRestoreTests) throws -> Void)] = [
            ("trainer.json missing", { try FileManager.default.removeItem(at: $0.newest("trainer.json")) }),
            ("optimizer cut short", { t in
                let url = t.newest("optimizer.safetensors")
                let data = try Data(contentsOf: url)
                try data.prefix(data.count / 2).write(to: url)
            }),
            ("one weight byte flipped", { t in
                // The file still parses; only its checksum tells.
                let url = t.newest("model.safetensors")
                var data = try Data(contentsOf: url)
                data[data.count - 3] ^= 0x40
                try data.write(to: url)
            }),
            ("config.json removed", { try FileManager.default.removeItem(at: $0.newest("config.json")) }),
        ]
        for (name, damage) in damages {
            try? FileManager.default.removeItem(at: root)
            let saved = try saveTwoSteps()
            try damage(self)
            let (state, values, notices) = try restore()
            XCTAssertEqual(state?.step, 1, name)
            XCTAssertEqual(values, saved[1], "\(name): the previous checkpoint's weights, bit for bit")
            XCTAssertEqual(notices.count, 1, "\(name): \(notices)")
            XCTAssertTrue(notices.first?.contains("step-00000002") == true && notices.first?.contains("resuming from step-00000001") == true,
                          "\(name): \(notices)")
        }
    }

    func testNoReadableCheckpointLeavesTheModelUntouched() throws {
        _ = try saveTwoSteps()
        for step in ["step-00000001", "step-00000002"] {
            try FileManager.default.removeItem(at: root.appendingPathComponent(step).appendingPathComponent("trainer.json"))
        }
        let fresh = try LlamaModel(config: LlamaPreset.tiny.config, seed: 99)
        let (state, restored, notices) = try restore()
        XCTAssertNil(state)
        XCTAssertEqual(restored, values(fresh), "a failed restore must not leave half-loaded weights")
        XCTAssertEqual(notices.count, 2)
        XCTAssertTrue(notices.last?.contains("starting from step 0") == true, "\(notices)")
    }

    func testLeftoverPartialDirectoriesAreRemoved() throws {
        _ = try saveTwoSteps()
        let partial = root.appendingPathComponent(".partial-step-00000003-4242")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: partial.appendingPathComponent("model.safetensors"))
        let (state, _, notices) = try restore()
        XCTAssertEqual(state?.step, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path), "the partial directory must be gone")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted(), ["step-00000001", "step-00000002"])
        XCTAssertTrue(notices.first?.contains(".partial-step-00000003-4242") == true, "\(notices)")
    }

    func testPlanMismatchIsAnErrorNotAFallback() throws {
        _ = try saveTwoSteps()
        let model = try LlamaModel(config: LlamaPreset.tiny.config, seed: 99)
        XCTAssertThrowsError(try TrainingCheckpoint.restoreLatest(root: root, model: model, optimizer: AdamW(parameters: model.parameters),
                                                                  totalSteps: 11) { _ in }) {
            XCTAssertTrue("\($0)".contains("10-step plan"), "\($0)")
        }
    }
}

final class MetricsCutTests: XCTestCase {
    func lines(_ text: String, keptAt step: Int) -> String {
        let data = Data(text.utf8)
        return String(decoding: data.prefix(MetricsLog.keptPrefix(data, step: step)), as: UTF8.self)
    }

    func testCutBackKeepsEverythingUpToTheRestoredStep() {
        let head = """
        {"event":"start","resumed_at_step":0,"total_steps":12}
        {"event":"eval","step":0,"val_loss":2}
        {"event":"step","loss":1,"step":1}
        {"event":"step","loss":1,"step":2}
        {"event":"checkpoint","path":"x","step":2}

        """
        let tail = """
        {"event":"step","loss":1,"step":3}
        {"event":"start","resumed_at_step":2,"total_steps":12}
        {"event":"step","loss":1,"st
        """
        XCTAssertEqual(lines(head + tail, keptAt: 2), head)
        XCTAssertEqual(lines(head + tail, keptAt: 0), "", "a restart from step 0 empties the log")
        XCTAssertEqual(lines(head + "{\"event\":\"start\",\"resumed_at_step\":2}\n", keptAt: 2), head,
                       "the start line of an attempt that got no further goes")
        XCTAssertEqual(lines(head + "{\"event\":\"step\",\"loss\":1,\"st", keptAt: 5), head, "an unfinished last line goes")
        XCTAssertEqual(lines(head + "not json\n{\"event\":\"step\",\"step\":2}\n", keptAt: 5), head, "nothing after an unreadable line")
    }

    func testCutBackTruncatesTheFileAndAppendsAfterIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = "{\"event\":\"step\",\"step\":1}\n"
        try Data((first + "{\"event\":\"step\",\"step\":2}\n{\"ev").utf8).write(to: dir.appendingPathComponent("metrics.jsonl"))
        let log = try MetricsLog(directory: dir)
        try log.cutBack(toStep: 1)
        try log.record(.finished(step: 9))
        XCTAssertEqual(try String(contentsOf: log.url, encoding: .utf8), first + "{\"event\":\"end\",\"step\":9}\n")
    }
}
