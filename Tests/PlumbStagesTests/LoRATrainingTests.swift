// LoRA as a Trainer parameter group (TrainingLoop with an adapter): checkpoints hold the adapter only
// (PEFT's files, no model weights), AdamW's moments cover the adapter's parameters only, the base is
// bit for bit unchanged, and a run resumed from an early checkpoint ends with the uninterrupted run's
// adapter bit for bit, dropout masks included (the dropout RNG rides in the checkpoint).
import Foundation
import PlumbModel
@testable import PlumbStages
import PlumbTensor
import XCTest

final class LoRATrainingTests: XCTestCase {
    let config = LlamaPreset.tiny.config

    /// 24 short random token sequences over the tiny vocabulary (loss on every next token).
    func examples() throws -> [BatchLayout.Example] {
        var rng = SeededRNG(seed: 77)
        return try (0..<24).map { _ in
            let tokens = (0..<(5 + Int(rng.next() % 5))).map { _ in Int32(1 + rng.next() % 31) }
            return try BatchLayout.Example(tokens: tokens, targets: Array(tokens.dropFirst()) + [CrossEntropy.ignoreIndex])
        }
    }

    /// Trains a fresh adapter (dropout 0.1) over a frozen base (fp32, or its bf16 rounding) for one
    /// epoch in `root`; returns base and adapter.
    func run(in root: URL, base dtype: BaseDType = .fp32) throws -> (LlamaModel, LoRAAdapter, TrainingSummary) {
        let fp32 = try LlamaModel(config: config, heads: .lm, seed: 5)
        fp32.parameters.releaseGradients()
        let base = dtype == .bf16 ? try LlamaModel.bf16(rounding: fp32) : fp32
        let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 8, dropout: 0.1), seed: 6)
        let train = try examples()
        let objective = try LanguageModelObjective(model: base, train: train, validation: Array(train.prefix(4)), rows: 2, seqLen: 16,
                                                   layout: .packed, padToken: 0, adapter: adapter)
        let plan = try BatchPlan(lengths: train.map(\.tokens.count), rows: 2, seqLen: 16, layout: .packed, accumulation: 2, epochs: 1, seed: 3)
        let settings = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-2, gradientAccumulation: 2),
                                    checkpointEvery: 2, evaluateEvery: 0, keepCheckpoints: 10)
        let loop = try TrainingLoop(model: base, adapter: adapter, plan: plan, settings: settings,
                                    checkpointRoot: root.appendingPathComponent("checkpoints"))
        return (base, adapter, try loop.run(objective))
    }

    func bits(_ p: ParameterSet) -> [UInt32] { UnsafeBufferPointer(start: p.values.base, count: p.totalCount).map(\.bitPattern) }

    func testCheckpointsHoldTheAdapterAndResumeExactly() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-lora-resume-\(UUID().uuidString)")
        let (base, adapter, summary) = try run(in: root.appendingPathComponent("a"))
        XCTAssertGreaterThanOrEqual(summary.steps, 4)
        XCTAssertEqual(bits(base.parameters), bits(try LlamaModel(config: config, heads: .lm, seed: 5).parameters), "the frozen base changed")
        let checkpoints = try TrainingCheckpoint.list(root.appendingPathComponent("a/checkpoints"))
        XCTAssertGreaterThanOrEqual(checkpoints.count, 2)
        let files = try FileManager.default.contentsOfDirectory(atPath: checkpoints[0].path).sorted()
        XCTAssertEqual(files, ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "trainer.json"])
        let moments = try SafeTensors.read(checkpoints[0].appendingPathComponent("optimizer.safetensors"))
        XCTAssertEqual(moments.tensors.values.reduce(0) { $0 + $1.count }, 2 * adapter.parameters.totalCount)
        // Resume: a second run directory holding only the first checkpoint ends where the first run did.
        let second = root.appendingPathComponent("b/checkpoints")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: checkpoints[0], to: second.appendingPathComponent(checkpoints[0].lastPathComponent))
        let (_, resumedAdapter, resumed) = try run(in: root.appendingPathComponent("b"))
        XCTAssertEqual(resumed.resumedAtStep, 2)
        XCTAssertEqual(bits(resumedAdapter.parameters), bits(adapter.parameters), "the resumed adapter differs from the uninterrupted run's")
        XCTAssertEqual(resumedAdapter.dropoutRNG, adapter.dropoutRNG)
        try? FileManager.default.removeItem(at: root)
    }

    /// On a bf16 base: checkpoints record the dtype, a resumed run ends bit for bit where the
    /// uninterrupted one did, and the adapter differs from the one trained on the fp32 base.
    func testBF16BaseResumesExactly() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-lora-bf16-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let (base, adapter, _) = try run(in: root.appendingPathComponent("a"), base: .bf16)
        XCTAssertEqual(base.baseDType, .bf16)
        let checkpoints = try TrainingCheckpoint.list(root.appendingPathComponent("a/checkpoints"))
        let metadata = try SafeTensors.read(checkpoints[0].appendingPathComponent("adapter_model.safetensors")).metadata
        XCTAssertEqual(metadata["plumb.base_dtype"], "bf16")
        let second = root.appendingPathComponent("b/checkpoints")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: checkpoints[0], to: second.appendingPathComponent(checkpoints[0].lastPathComponent))
        let (_, resumedAdapter, resumed) = try run(in: root.appendingPathComponent("b"), base: .bf16)
        XCTAssertEqual(resumed.resumedAtStep, 2)
        XCTAssertEqual(bits(resumedAdapter.parameters), bits(adapter.parameters), "the resumed adapter differs from the uninterrupted run's")
        let (_, onFP32, _) = try run(in: root.appendingPathComponent("c"))
        XCTAssertNotEqual(bits(onFP32.parameters), bits(adapter.parameters))
    }
}
