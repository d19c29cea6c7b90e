// The stage benchmarks (PlumbStages/Benchmarks) at their smallest shapes on random weights: token
// counts equal between schedules and runs, rates that are counts over seconds, the stage's own
// parameters, the JSON field names pipelines/*.sh and the docs read. Not speed.
import Foundation
import PlumbModel
@testable import PlumbStages
import XCTest

final class StageBenchTests: XCTestCase {
    func tinyModel() throws -> LlamaModel {
        let model = try LlamaModel(config: LlamaPreset.tiny.config, heads: .lm)
        model.initialize(seed: 4, std: 0.5)
        return model
    }

    func json<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]
    }

    func testRSSchedulesMakeTheSameTokensAndTheSameSeedTheSameRun() throws {
        var o = RSBench.Options()
        (o.prompts, o.samples, o.slots, o.newTokens, o.promptLength, o.stopShare, o.repeats) = (4, 2, 4, 6, 3, 0.25, 1)
        let r = try RSBench.run(model: try tinyModel(), description: "tiny", o)
        XCTAssertEqual(r.meanNewTokens, Double(r.newTokens) / 8, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(r.newTokens, 8 * 6, "at most max-new-tokens per sample")
        XCTAssertEqual(r.scoringTokens, r.newTokens + 8 * 3, "every sample is scored with its prompt")
        XCTAssertEqual(r.continuousTokensPerSecond * r.continuousSeconds.min()!, Double(r.newTokens), accuracy: 1e-9)
        XCTAssertEqual(r.continuousOverWaiting, r.waitingSeconds.min()! / r.continuousSeconds.min()!, accuracy: 1e-12)
        XCTAssertEqual(r.continuousOverAnchor, r.continuousTokensPerSecond / r.anchorSampleTokensPerSecond.max()!, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(r.continuousDecodeSteps, r.waitingDecodeSteps, "refilling slots never takes more steps than waiting")
        XCTAssertEqual(try RSBench.run(model: try tinyModel(), description: "tiny", o).newTokens, r.newTokens, "seeded sampling")
        XCTAssertEqual(try json(r).count, 27)
    }

    func testDPORunsTheStageStepWithTheStageParameters() throws {
        var o = DPOBench.Options()
        (o.preset, o.pairs, o.seqLen, o.promptLength, o.steps, o.ceilingSizes) = (.tiny, 2, 16, 4, 2, [32, 64])
        let r = try DPOBench.run(o)
        XCTAssertEqual(r.pairsPerSecond * r.stepSeconds, 2, accuracy: 1e-9)
        XCTAssertEqual(r.achievedGflops * r.stepSeconds, r.policyGflopPerStep, accuracy: 1e-9 * r.policyGflopPerStep)
        XCTAssertEqual(r.fractionOfCeiling, r.achievedGflops / r.sgemmCeilingGflops, accuracy: 1e-12)
        XCTAssertEqual(r.reference, "cached (no forward per step)")
        let p = DPOBench.parameters(o), stage = DPOStage.Parameters()
        XCTAssertEqual(p.loop.optimization, stage.loop.optimization, "the dpo stage's optimiser, schedule and clipping")
        XCTAssertEqual(p.loss.beta, stage.loss.beta, "the stage's beta")
        XCTAssertEqual(p.rows, 4, "both sequences of each pair in one micro-batch")
        o.uncachedReference = true
        XCTAssertEqual(try DPOBench.run(o).reference, "a forward pass per step")
        (o.uncachedReference, o.loss) = (false, .simpo)
        XCTAssertEqual(try DPOBench.run(o).reference, "none")
        o.uncachedReference = true
        XCTAssertThrowsError(try DPOBench.run(o)) { XCTAssertTrue("\($0)".contains("uses no reference"), "\($0)") }
        XCTAssertEqual(try json(r).count, 14)
    }

    func testPPORolloutAgainstItsAnchor() throws {
        var o = PPOBench.Options()
        (o.prompts, o.newTokens, o.promptLength, o.stopShare, o.repeats, o.slots) = (4, 6, 3, 0.25, 2, 2)
        let out = try PPOBench.rolloutOnly(model: try tinyModel(), description: "tiny", o)
        let r = out.report
        XCTAssertEqual(r.rolloutSeconds.count, 2)
        XCTAssertEqual(r.anchorSampleTokensPerSecond.count, 2)
        XCTAssertEqual(r.slots, 2)
        XCTAssertLessThanOrEqual(r.meanNewTokens, 6)
        XCTAssertEqual(r.rolloutOverAnchor, r.rolloutTokensPerSecond / r.anchorSampleTokensPerSecond.max()!, accuracy: 1e-12)
        let fields = try json(out)
        XCTAssertEqual(fields["benchmark"] as? String, "ppo-rollout")
        for prefix in ["rollout", "anchor"] {
            for f in ["prefill_seconds", "decode_seconds", "decode_steps", "mean_rows_per_step", "seconds_per_step"] {
                XCTAssertNotNil(fields["\(prefix)_\(f)"], "\(prefix)_\(f)")
            }
        }
        let anchorRows = try XCTUnwrap(fields["anchor_mean_rows_per_step"] as? Double)
        XCTAssertLessThanOrEqual(try XCTUnwrap(fields["rollout_mean_rows_per_step"] as? Double), 2, "two slots")
        XCTAssertLessThanOrEqual(anchorRows, 4)
        let decoded = try JSONDecoder().decode(WithDecodeFigures<PPOBench.RolloutReport>.self, from: JSONEncoder().encode(out))
        XCTAssertEqual(decoded.figures, out.figures, "the flat fields read back")
        XCTAssertEqual(fields.count, 12 + 10)
    }

    func testPPOIterationThroughTheStagePhaseThree() throws {
        var o = PPOBench.Options()
        (o.prompts, o.newTokens, o.promptLength, o.stopShare, o.epochs, o.miniBatches, o.rows, o.repeats, o.ceilingSizes) = (4, 6, 3, 0.25, 2, 2, 2, 1, [32, 64])
        let out = try PPOBench.run(model: try tinyModel(), description: "tiny", o)
        let r = out.report
        XCTAssertEqual(r.iterationSeconds, r.rolloutSeconds + r.scoringSeconds + r.updateSeconds, accuracy: 1e-12)
        XCTAssertGreaterThanOrEqual(r.updateMicroBatches, o.epochs * o.miniBatches, "at least a micro-batch per optimiser step")
        XCTAssertGreaterThan(r.packingEfficiency, 0)
        XCTAssertLessThanOrEqual(r.packingEfficiency, 1)
        let flops = 2 * Double(r.updateMicroBatches) * ModelBenchmarks.trainingFlops(LlamaPreset.tiny.config, batchSize: 2, seqLen: 9)
        XCTAssertEqual(r.updateGflop, flops / 1e9, accuracy: 1e-12)
        XCTAssertEqual(r.updateFractionOfCeiling, r.updateAchievedGflops / r.sgemmCeilingGflops, accuracy: 1e-12)
        XCTAssertEqual(PPOBench.settings(o).policyOptimization, PPOParameters().settings.policyOptimization, "the ppo stage's optimiser")
        XCTAssertEqual(try json(out).count, 24 + 10)
    }

    func testRLEstimatorsOnTheSameRollouts() throws {
        var o = RLBench.Options()
        (o.prompts, o.groupSize, o.newTokens, o.promptLength, o.epochs, o.miniBatches, o.rows, o.repeats) = (2, 2, 4, 3, 1, 1, 2, 1)
        let out = try RLBench.run(model: try tinyModel(), description: "tiny", o)
        XCTAssertEqual(out.report.responses, 4)
        XCTAssertEqual(out.estimators.map(\.estimator), RLEstimator.allCases)
        for e in out.estimators {
            XCTAssertEqual(e.scoringSeconds.count, 1)
            XCTAssertEqual(e.fastestIterationSeconds, e.iterationSeconds, accuracy: 1e-12, "one repeat: the fastest is the median")
        }
        XCTAssertEqual(out.estimators.first { $0.estimator == .ppo }!.overPPO, 1)
        let (grpo, estimation) = RLBench.settings(o, estimator: .grpo)
        XCTAssertEqual(estimation.klIn, .loss)
        XCTAssertEqual(grpo.policyOptimization, RLStage.Parameters().settings.policyOptimization, "the rl stage's optimiser")
        let fields = try json(out)
        // JSONSerialization's parser may differ from the shortest round-trip digits in the last place.
        XCTAssertEqual(try XCTUnwrap(fields["reinforce++_over_ppo"] as? Double), out.estimators.last!.overPPO, accuracy: 1e-12)
        XCTAssertEqual(fields.count, 15 + 4 * 7 + 5)
        let decoded = try JSONDecoder().decode(WithEstimatorFigures.self, from: JSONEncoder().encode(out))
        XCTAssertEqual(decoded.estimators, out.estimators)
    }

    /// `bench memory --mode lora-ppo` at a small shape: the iteration runs, the fresh policy is its
    /// reference bit for bit, and the base holds no gradient arena.
    func testLoRAPPOMemoryIteration() throws {
        var o = MemoryBench.Options()
        (o.preset, o.mode, o.seqLen, o.newTokens, o.prompts, o.lora) = (.stories260k, .loraPPO, 40, 8, 2, "rank=4 alpha=8")
        let r = try LoRAPPOMemoryBench.run(o)
        XCTAssertEqual(r.policyVsReferenceMaxLogprobDifference, 0)
        XCTAssertEqual(r.baseGradientBytes, 0)
        XCTAssertGreaterThan(r.updateSeconds, 0)
        XCTAssertGreaterThan(r.peakRSSBytes, 0)
        XCTAssertEqual(r.promptLength, 32)
        XCTAssertEqual(r.adapterParameters.count, 4)
        XCTAssertEqual(r.iterationSeconds, r.rolloutSeconds + r.scoringSeconds + r.updateSeconds, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(r.peakRSSAfterModels, r.peakRSSBytes)
        XCTAssertEqual(try json(r).count, 28)
    }
}
