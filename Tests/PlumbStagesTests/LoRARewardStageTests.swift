// `rm train` with a `lora` setting on RewardStageTests' synthetic world (the chosen answer says
// "please"): an adapter with its own reward head over the frozen SFT model; the stage keeps the
// adapter and head only (PEFT's layout, `score` saved whole), and `rm eval` loads it merged.
import Foundation
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

extension RewardStageTests {
    func testLoRARewardModelTrainsItsOwnHead() throws {
        let (tokenizer, data, sft) = try makeInputs()
        let runs = root.appendingPathComponent("runs")
        var p = RewardModelStage.Parameters(dimension: .helpfulness)
        p.seqLen = 48; p.rows = 4; p.epochs = 2
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-6), checkpointEvery: 50, evaluateEvery: 0)
        p.lora = LoRASettings(rank: 8, alpha: 16, learningRate: 1e-2)
        let summary = try StageRun.run(RewardModelStage.self, p, inputs: StageInputs(["tokenizer": [tokenizer], "init-from": [sft], "data": [data]]),
                                       location: StageLocation(runsRoot: runs, run: "r", stage: "rm-lora"))
        let stage = runs.appendingPathComponent("r/rm-lora")
        let manifest = try StageManifest.read(from: stage)
        XCTAssertEqual(manifest.artifacts.map(\.name), [PEFTAdapterFormat.weightsFile])
        let accuracy = summary.training.finalEvaluation["val_accuracy"] ?? 0
        print("LoRA reward model: val_accuracy \(accuracy) after \(summary.training.steps) steps (initial \(summary.training.initialEvaluation["val_accuracy"] ?? .nan))")
        XCTAssertGreaterThan(accuracy, 0.8)
        let (_, adapter) = try StageModel.loadAdapter(stage, heads: .reward)
        XCTAssertEqual(adapter.heads, .reward)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: stage.appendingPathComponent(PEFTAdapterFormat.configFile))) as! [String: Any]
        XCTAssertEqual(config["modules_to_save"] as? [String], ["score"])
        let evaluation = try StageRun.run(RewardEvalStage.self, RewardEvalStage.Parameters(),
                                          inputs: StageInputs(["tokenizer": [tokenizer], "model": [stage], "data": [data]]),
                                          location: StageLocation(runsRoot: runs, run: "r", stage: "rm-lora-eval"))
        XCTAssertGreaterThan(evaluation.overall.accuracy, 0.8)
    }
}
