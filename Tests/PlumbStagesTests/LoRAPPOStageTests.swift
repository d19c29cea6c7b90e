// `plumb ppo --lora`: the five roles on one frozen base (PPOAdapters). The policy and the critic are
// adapters, the reference is the bare base, both reward models are adapters with their heads on the
// same base. A run killed mid-way and rerun ends with the uninterrupted run's adapter bit for bit; the
// stage and its checkpoints hold adapters only; a reward adapter trained on another base is refused
// naming both checksums.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import PlumbTensor
import XCTest

final class LoRAPPOStageTests: XCTestCase {
    let settings = LoRASettings(rank: 4, alpha: 8)

    /// A reward model as a PEFT adapter directory on `base` (loaded from `baseDirectory`): PEFT's init,
    /// then B and the reward head drawn, so its scores depend on the adapter.
    func rewardAdapter(on base: LlamaModel, baseDirectory: URL, seed: UInt64, into dir: URL) throws -> URL {
        let adapter = try LoRAAdapter(config: base.config, settings: settings, heads: .reward, seed: seed)
        var rng = SeededRNG(seed: seed + 100)
        for m in adapter.allModules { rng.fillNormal(m.b, std: 0.2) }
        try? FileManager.default.removeItem(at: dir)
        try PEFTAdapterFormat.save(adapter, base: base, baseName: baseDirectory.path, to: dir)
        return dir
    }

    func arguments(_ i: PPOStageTests.Inputs, helpfulness: URL, safety: URL, stage: String, lora: String = "rank=4 alpha=8") -> [String] {
        ["ppo", "--tokenizer", i.tokenizer.path, "--policy", i.policy.path, "--helpfulness", helpfulness.path, "--safety", safety.path,
         "--prompts", i.prompts.path, "--iterations", "4", "--prompts-per-iteration", "8", "--ppo-epochs", "2",
         "--mini-batches", "2", "--max-new-tokens", "10", "--lr", "1e-2", "--value-lr", "1e-2", "--rows", "4", "--max-sequences", "8",
         "--checkpoint-every", "2", "--sample-every", "0", "--lora", lora, "--out", i.runs.appendingPathComponent("r/\(stage)").path]
    }

    /// The first step's `objective/kl` of a stage's metrics.
    func firstKL(_ stage: URL) throws -> Double? {
        try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["event"] as? String == "step" && $0["step"] as? Int == 1 }
            .flatMap { ($0["extra"] as? [String: Any])?["objective/kl"] as? Double ?? $0["objective/kl"] as? Double }
    }

    /// `base=bf16`: every role on the policy's bf16 rounding (reward adapters trained on the fp32 base
    /// load onto it with the warning); the fresh policy decodes and scores as the bare bf16 base (the
    /// first KL exactly 0), the adapter trains, and it records the bf16 base it was trained on.
    func testLoRAPPOOnABF16Base() throws {
        let i = try PPOStageTests.inputs()
        let base = try LlamaModel.load(directory: i.policy)
        let h = try rewardAdapter(on: base, baseDirectory: i.policy, seed: 21, into: i.root.appendingPathComponent("rm-h-lora-b"))
        let s = try rewardAdapter(on: base, baseDirectory: i.policy, seed: 22, into: i.root.appendingPathComponent("rm-s-lora-b"))
        _ = try PlumbProcess.binary()
        XCTAssertEqual(try PlumbProcess.run(arguments(i, helpfulness: h, safety: s, stage: "ppo-lora-bf16", lora: "rank=4 alpha=8 base=bf16")).0, 0)
        let stage = i.runs.appendingPathComponent("r/ppo-lora-bf16")
        XCTAssertEqual(try StageManifest.read(from: stage).status, .complete)
        XCTAssertEqual(try firstKL(stage), 0)
        let (loadedBase, adapter) = try StageModel.loadAdapter(stage)   // onto the fp32 policy it was rounded from
        XCTAssertEqual(loadedBase.baseDType, .fp32)
        XCTAssertGreaterThan(adapter.allModules.map { $0.b.array.map(abs).max()! }.max()!, 0, "PPO trained the adapter (B left 0)")
    }

    /// The stage's adapter values, in parameter order.
    func adapterValues(_ stage: URL) throws -> [Float] {
        let p = try StageModel.loadAdapter(stage).adapter.parameters
        return Array(UnsafeBufferPointer(start: p.values.base, count: p.totalCount))
    }

    func testLoRAPPOResumesExactlyAndKeepsAdaptersOnly() throws {
        let i = try PPOStageTests.inputs()
        let base = try LlamaModel.load(directory: i.policy)
        let h = try rewardAdapter(on: base, baseDirectory: i.policy, seed: 21, into: i.root.appendingPathComponent("rm-h-lora"))
        let s = try rewardAdapter(on: base, baseDirectory: i.policy, seed: 22, into: i.root.appendingPathComponent("rm-s-lora"))
        _ = try PlumbProcess.binary()
        XCTAssertEqual(try PlumbProcess.run(arguments(i, helpfulness: h, safety: s, stage: "ppo-lora-whole")).0, 0)
        XCTAssertEqual(try PlumbProcess.run(arguments(i, helpfulness: h, safety: s, stage: "ppo-lora-killed"),
                                            environment: ["PLUMB_KILL_AFTER_STEP": "3"]).1, .uncaughtSignal)
        let killed = i.runs.appendingPathComponent("r/ppo-lora-killed"), whole = i.runs.appendingPathComponent("r/ppo-lora-whole")
        XCTAssertEqual(try StageManifest.read(from: killed).status, .running)
        // The checkpoint of iteration 2 holds the policy's and the critic's adapters, no base weights.
        let checkpoints = try FileManager.default.subpathsOfDirectory(atPath: killed.appendingPathComponent("checkpoints").path)
        XCTAssertTrue(checkpoints.contains { $0.hasSuffix(PEFTAdapterFormat.weightsFile) && !$0.contains("value") }, "\(checkpoints)")
        XCTAssertTrue(checkpoints.contains { $0.hasSuffix("value/" + PEFTAdapterFormat.weightsFile) }, "\(checkpoints)")
        XCTAssertFalse(checkpoints.contains { ($0 as NSString).lastPathComponent == LlamaCheckpoint.weightsFile }, "\(checkpoints)")
        XCTAssertEqual(try PlumbProcess.run(arguments(i, helpfulness: h, safety: s, stage: "ppo-lora-killed")).0, 0)

        XCTAssertEqual(try adapterValues(whole), try adapterValues(killed), "the resumed run ends with the uninterrupted run's adapter")
        let (loadedBase, adapter) = try StageModel.loadAdapter(whole)
        XCTAssertEqual(try BaseChecksum.of(loadedBase), try BaseChecksum.of(base), "the stage names the policy input as its base")
        XCTAssertGreaterThan(adapter.allModules.map { $0.b.array.map(abs).max()! }.max()!, 0, "PPO trained the adapter (B left 0)")
        let manifest = try StageManifest.read(from: whole)
        XCTAssertEqual(manifest.artifacts.map(\.name), [PEFTAdapterFormat.weightsFile], "the stage keeps the adapter only")
        // Iteration 1 samples from a fresh adapter (B = 0), which is the bare base, i.e. the reference:
        // the policy's and the reference's log-probabilities agree bit for bit, so the KL is exactly 0.
        let firstKL = try String(contentsOf: whole.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["event"] as? String == "step" && $0["step"] as? Int == 1 }
            .flatMap { ($0["extra"] as? [String: Any])?["objective/kl"] as? Double ?? $0["objective/kl"] as? Double }
        XCTAssertEqual(firstKL, 0)
        XCTAssertNotNil(manifest.metrics["loss/value_avg"], "the critic (an adapter with the value head) trained")
    }

    func testRewardAdapterOnAnotherBaseIsRefusedNamingBothChecksums() throws {
        let i = try PPOStageTests.inputs()
        let base = try LlamaModel.load(directory: i.policy)
        let other = try LlamaModel(config: base.config, heads: .lm, seed: 77)
        let otherDirectory = i.root.appendingPathComponent("other-base")
        try other.save(to: otherDirectory)
        let h = try rewardAdapter(on: other, baseDirectory: otherDirectory, seed: 23, into: i.root.appendingPathComponent("rm-h-other"))
        let s = try rewardAdapter(on: base, baseDirectory: i.policy, seed: 24, into: i.root.appendingPathComponent("rm-s-lora2"))
        XCTAssertThrowsError(try StageFixtures.plumb(arguments(i, helpfulness: h, safety: s, stage: "ppo-lora-other"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(try! BaseChecksum.of(other)), text)
            XCTAssertTrue(text.contains(try! BaseChecksum.of(base)), text)
        }
    }
}

extension LoRAPPOStageTests {
    /// The five roles' passes on one base sharing the policy's activations give the bits of passes with
    /// their own (the roles run one after the other, so nothing is overwritten while in use).
    func testSharedActivationsGiveTheBitsOfOwnOnes() throws {
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 64, maxSeqLen: 24)
        let base = try LlamaModel(config: config, heads: .lm, seed: 5)
        base.parameters.releaseGradients()
        let policy = try LoRAAdapter(config: config, settings: settings, seed: 6)
        var rng = SeededRNG(seed: 7)
        for m in policy.allModules { rng.fillNormal(m.b, std: 0.3) }
        let critic = try LoRAAdapter(config: config, settings: settings, heads: .value, seed: 8)
        let examples = try [[1, 5, 9, 3, 7, 2], [2, 4, 4, 8, 1, 9, 30, 31, 6]].map { (t: [Int32]) in
            try BatchLayout.Example(tokens: t, targets: [-1, -1] + Array(t.dropFirst(3)) + [-1])
        }
        let own = try ResponseTokenPass(model: base, rows: 2, seqLen: 24, padToken: 0, adapter: policy)
        let ownCritic = try ResponseTokenPass(model: base, rows: 2, seqLen: 24, padToken: 0, adapter: critic, logits: false)
        let ownReference = try ResponseTokenPass(model: base, rows: 2, seqLen: 24, padToken: 0)
        let shared = try ResponseTokenPass(model: base, rows: 2, seqLen: 24, padToken: 0, adapter: policy)
        let sharedCritic = try ResponseTokenPass(model: base, rows: 2, seqLen: 24, padToken: 0, adapter: critic, logits: false, sharing: shared)
        let sharedReference = try ResponseTokenPass(model: base, rows: 2, seqLen: 24, padToken: 0, sharing: shared)
        func bits(_ x: [[Float]]) -> [[UInt32]] { x.map { $0.map(\.bitPattern) } }
        for _ in 0..<2 {   // interleaved, so a shared buffer left by another role is overwritten each time
            XCTAssertEqual(bits(try shared.logProbs(examples, logitScale: 1.5, entropies: true).map { $0.logProbs }),
                           bits(try own.logProbs(examples, logitScale: 1.5, entropies: true).map { $0.logProbs }))
            XCTAssertEqual(bits(try sharedCritic.values(examples)), bits(try ownCritic.values(examples)))
            XCTAssertEqual(bits(try sharedReference.logProbs(examples, logitScale: 1.5, entropies: false).map { $0.logProbs }),
                           bits(try ownReference.logProbs(examples, logitScale: 1.5, entropies: false).map { $0.logProbs }))
        }
        XCTAssertNotEqual(bits(try shared.logProbs(examples, logitScale: 1.5, entropies: false).map { $0.logProbs }),
                          bits(try sharedReference.logProbs(examples, logitScale: 1.5, entropies: false).map { $0.logProbs }), "the adapter moves the policy")
    }
}

extension LoRAPPOStageTests {
    /// `rl --lora` with a critic-free estimator (GRPO): the policy's adapter trains over the frozen
    /// base with no critic adapter; full-parameter reward models still load as their own models.
    func testRLWithLoRATrainsThePolicyAdapterWithoutACritic() throws {
        let i = try PPOStageTests.inputs()
        let out = i.runs.appendingPathComponent("r/rl-lora")
        try StageFixtures.plumb(["stage", "rl", "--tokenizer", i.tokenizer.path, "--policy", i.policy.path, "--helpfulness", i.helpfulness.path,
                                 "--safety", i.safety.path, "--prompts", i.prompts.path, "--estimator", "grpo", "--group-size", "3",
                                 "--iterations", "2", "--prompts-per-iteration", "4", "--max-new-tokens", "10", "--lr", "1e-2", "--rows", "4",
                                 "--max-sequences", "12", "--checkpoint-every", "1", "--sample-every", "0", "--lora", "rank=4 alpha=8", "--missing-eos-score", "none",
                                 "--out", out.path])
        let manifest = try StageManifest.read(from: out)
        XCTAssertEqual(manifest.artifacts.map(\.name), [PEFTAdapterFormat.weightsFile])
        XCTAssertNil(manifest.metrics["loss/value_avg"], "no critic")
        let adapter = try StageModel.loadAdapter(out).adapter
        XCTAssertGreaterThan(adapter.allModules.map { $0.b.array.map(abs).max()! }.max()!, 0, "the policy's adapter trained")
        let checkpoints = try FileManager.default.subpathsOfDirectory(atPath: out.appendingPathComponent("checkpoints").path)
        XCTAssertFalse(checkpoints.contains { $0.contains("value") }, "\(checkpoints)")
    }
}
