// The model benchmarks at their smallest shapes: what each report says must agree with itself (rates
// = counts / seconds, shares that add up, token counts the options imply), the JSON field names the
// docs and pipelines/*.sh read, and the peak RSS parser. Not speed.
import Foundation
import PlumbFiles
import PlumbModel
import PlumbTensor
import XCTest

/// The top-level keys of `value` encoded as JSON.
func jsonKeys<T: Encodable>(_ value: T) throws -> Set<String> {
    Set((try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]).keys)
}

final class ModelBenchTests: XCTestCase {
    func testTrainReportIsConsistent() throws {
        var o = TrainBench.Options()
        (o.preset, o.batchSize, o.seqLen, o.steps, o.profile, o.ceilingSizes) = (.tiny, 2, 16, 2, true, [32, 64])
        let r = try TrainBench.run(o)
        XCTAssertEqual(r.tokensPerSecond * r.stepSeconds, 32, accuracy: 1e-9, "tokens per step = batch x seq-len")
        XCTAssertEqual(r.achievedGflops * r.stepSeconds, r.modelGflopPerStep, accuracy: 1e-9 * r.modelGflopPerStep)
        XCTAssertEqual(r.modelGflopPerStep * 1e9, ModelBenchmarks.trainingFlops(LlamaPreset.tiny.config, batchSize: 2, seqLen: 16), accuracy: 1e-3)
        XCTAssertEqual(r.fractionOfCeiling, r.achievedGflops / r.sgemmCeilingGflops, accuracy: 1e-12)
        XCTAssertGreaterThan(r.peakRSSBytes, 0)
        XCTAssertTrue(r.finalLoss.isFinite)
        let profile = try XCTUnwrap(r.profile)
        XCTAssertEqual(Set(profile.keys), Set(StepPhase.allCases.map(\.rawValue) + ["other"]))
        XCTAssertEqual(profile.values.map(\.share).reduce(0, +), 1, accuracy: 1e-9, "the phases and the rest make the step")
        XCTAssertEqual(try jsonKeys(r), ["benchmark", "threads", "preset", "batch_size", "seq_len", "steps", "tokens_per_second", "step_seconds",
                                         "model_gflop_per_step", "achieved_gflops", "sgemm_ceiling_gflops", "fraction_of_ceiling", "flop_count",
                                         "final_loss", "peak_rss_bytes", "estimated_bytes", "profile"])
    }

    func testDecodeThroughAnAdapterMakesTheTokensAsked() throws {
        let model = try LlamaModel(config: LlamaPreset.tiny.config, heads: .lm)
        model.initialize(seed: 3, std: 0.5)
        var o = DecodeBench.Options()
        (o.newTokens, o.promptIds, o.printTokens, o.lora) = (6, [1, 5], true, "rank=2 alpha=4")
        let r = try DecodeBench.run(model: model, description: "tiny", o)
        XCTAssertEqual(r.newTokens, 6, "no stop token: every asked token")
        XCTAssertEqual(r.tokens?.count, 6)
        XCTAssertEqual(r.tokensPerSecond * r.seconds, 6, accuracy: 1e-9)
        XCTAssertEqual(r.promptTokens, 2)
        XCTAssertEqual(r.lora, "rank=2 alpha=4")
        XCTAssertEqual(try jsonKeys(r), ["benchmark", "model", "weights", "prompt_tokens", "lora", "new_tokens", "seconds", "tokens_per_second",
                                         "peak_rss_bytes", "tokens"])
        o.printTokens = false
        XCTAssertFalse(try jsonKeys(try DecodeBench.run(model: model, description: "tiny", o)).contains("tokens"))
    }

    func testSampleCountsEveryCompletionAndWidensTheContext() throws {
        let model = try LlamaModel(config: LlamaPreset.tiny.config, heads: .lm)
        model.initialize(seed: 1)
        var o = SampleBench.Options()
        (o.prompts, o.samples, o.newTokens, o.promptLength) = (2, 3, 4, 3)
        let r = try SampleBench.run(model: model, description: "tiny", o)
        XCTAssertEqual(r.sequences, 6)
        XCTAssertEqual(r.newTokens, 24, "prompts x samples x new tokens")
        XCTAssertEqual(r.tokensPerSecond * r.seconds, 24, accuracy: 1e-9)
        XCTAssertEqual(r.context, 32, "the preset's context is enough")
        (o.promptLength, o.newTokens) = (30, 8)
        let wide = try SampleBench.run(model: model, description: "tiny", o)
        XCTAssertEqual(wide.context, 38, "widened to prompt + new tokens")
        XCTAssertEqual(wide.newTokens, 48)
        XCTAssertEqual(try jsonKeys(r), ["benchmark", "threads", "model", "weights", "prompts", "samples_per_prompt", "sequences", "prompt_tokens",
                                         "new_tokens", "context", "seconds", "tokens_per_second", "peak_rss_bytes"])
    }

    func testMemoryLoRATrainsFewerParametersThanFull() throws {
        var o = MemoryBench.Options()
        (o.preset, o.seqLen, o.steps, o.lora) = (.tiny, 16, 3, "rank=2 alpha=4")
        let lora = try MemoryBench.run(o)
        o.mode = .fullSFT
        let full = try MemoryBench.run(o)
        XCTAssertEqual(lora.stepSeconds.count, 3)
        XCTAssertEqual(lora.medianStepSeconds, lora.stepSeconds.sorted()[1])
        XCTAssertLessThan(lora.trainedParameters, lora.baseParameters)
        XCTAssertGreaterThan(full.trainedParameters, lora.trainedParameters, "full-sft trains every parameter")
        XCTAssertEqual(lora.baseBytes, full.baseBytes, "an fp32 base either way")
        XCTAssertEqual(full.base, "fp32")
        XCTAssertGreaterThan(full.optimizerBytes, lora.optimizerBytes)
        XCTAssertGreaterThan(lora.peakRSSBytes, 0)
        XCTAssertGreaterThanOrEqual(lora.wallSeconds, lora.stepSeconds.reduce(0, +))
        XCTAssertEqual(try jsonKeys(lora), ["benchmark", "preset", "mode", "seq_len", "lora", "step_seconds", "median_step_seconds", "base_parameters",
                                            "base_bytes", "base", "trained_parameters", "optimizer_bytes", "gradient_bytes", "losses",
                                            "peak_rss_bytes", "wall_seconds"])
    }

    func testBaseComparesTheRoundedBaseOnTheSameTokens() throws {
        let (fp32, passages) = try BaseBench.randomModel(.tiny, seqLen: 16, sequences: 2, seed: 0)
        var o = BaseBench.Options()
        (o.seqLen, o.rounds, o.lora) = (16, 2, "rank=2 alpha=4")
        let r = try BaseBench.run(fp32: fp32, passages: passages, modelName: "tiny", o)
        XCTAssertEqual(r.predictedTokens, 2 * 15, "each sequence's length minus one")
        XCTAssertEqual(r.stepTokens, 16)
        XCTAssertEqual(r.stepSecondsFP32.count, 2)
        XCTAssertEqual(r.stepSecondsBF16.count, 2)
        XCTAssertEqual(r.loglikPerTokenDifference, r.loglikPerTokenBF16 - r.loglikPerTokenFP32, accuracy: 1e-12)
        XCTAssertEqual(r.medianStepRatioBF16OverFP32, median(r.stepSecondsBF16) / median(r.stepSecondsFP32), accuracy: 1e-12)
        XCTAssertLessThan(r.baseBytesBF16, r.baseBytesFP32, "bf16 projections take 2 bytes")
        // Weights of std 0.02 rounded to bf16 (8 significant bits) move the log-likelihood by far less than 0.1 nat per token.
        XCTAssertLessThan(abs(r.loglikPerTokenDifference), 0.1)
    }

    func testAllreduceOnOneProcess() throws {
        var o = AllreduceBench.Options()
        (o.preset, o.batchSize, o.seqLen, o.steps, o.repetitions) = (.tiny, 2, 8, 1, 3)
        let r = try XCTUnwrap(try AllreduceBench.run(o, world: SingleProcess()))
        XCTAssertEqual(r.ranks, 1)
        XCTAssertEqual(r.rowsPerRank, 2)
        XCTAssertEqual(r.arenaBytes, r.parameters * 4)
        XCTAssertEqual(r.parameters, try LlamaModel(config: LlamaPreset.tiny.config, heads: .lm, seed: 0).parameters.gradients.count)
        XCTAssertEqual(r.busGbitPerSecond, 0, "one rank moves nothing over a bus")
        XCTAssertLessThanOrEqual(r.allreduceSecondsMin, r.allreduceSecondsMedian)
        XCTAssertEqual(r.allreduceShareOfStep, r.allreduceSecondsMedian / (r.stepComputeSeconds + r.allreduceSecondsMedian), accuracy: 1e-12)
        XCTAssertTrue(try jsonKeys(r).isSuperset(of: ["allreduce_seconds_median", "bus_gbit_per_second", "step_compute_seconds", "allreduce_share_of_step"]))
    }

    /// The peak RSS the benches print: /proc's VmHWM line below and above 10,000,000 kB (where the
    /// kernel's 8-character field leaves no space after the tab).
    func testPeakRSSParsesBothWidthsOfVmHWM() {
        XCTAssertEqual(vmHWMBytes(status: "Name:\tplumb\nVmHWM:\t    2128 kB\nVmRSS:\t    2000 kB\n"), 2128 * 1024)
        XCTAssertEqual(vmHWMBytes(status: "VmPeak:\t12000000 kB\nVmHWM:\t11234567 kB\n"), 11_234_567 * 1024)
        XCTAssertNil(vmHWMBytes(status: "VmRSS:\t    2000 kB\n"))
        XCTAssertGreaterThan(peakRSSBytes() ?? 0, 0)
    }
}
