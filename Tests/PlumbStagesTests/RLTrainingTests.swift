// The critic-free estimators through real models: the policy-only update (clipped surrogate plus the
// KL term of the loss) against central differences of its loss, and a tiny policy learning a toy
// reward through PPO's loop with GRPO and RLOO advantages, no critic.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import PlumbTensor
import XCTest

final class RLTrainingTests: XCTestCase {
    let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 64)
    let temperature: Float = 0.7

    /// Old log-probabilities shifted by +-0.05 (inside the clip range) or +-0.5 (outside), the
    /// reference's by -0.3 or +0.4 (the KL term away from 0), advantages drawn from a seed.
    func testPolicyOnlyUpdateWithKLInTheLossMatchesCentralDifferences() throws {
        var rollouts = try PPOTrainingTests.syntheticRollouts(6, seed: 3)
        let policy = try ResponseTokenPass(model: try LlamaModel(config: config, heads: .lm, seed: 4), rows: 4, seqLen: 63, padToken: 0)
        let lp = try policy.logProbs(rollouts.map(\.example), logitScale: 1 / temperature, entropies: false)
        let shifts: [Float] = [0.05, -0.5, -0.05, 0.5]
        var rng = SeededRNG(seed: 9)
        var k = 0
        for i in rollouts.indices {
            rollouts[i].logProbs = lp[i].logProbs.map { x in defer { k += 1 }; return x + shifts[k % 4] }
            rollouts[i].referenceLogProbs = lp[i].logProbs.enumerated().map { $1 + ($0 % 2 == 0 ? -0.3 : 0.4) }
            rollouts[i].advantages = lp[i].logProbs.map { _ in rng.normal() }
        }
        for estimator in KLEstimator.allCases {
            let update = PPOUpdate(policy: policy, critic: nil, loss: PPOLoss(), lossKL: LossKL(estimator: estimator, beta: 0.5),
                                   temperature: temperature)
            let indices = Array(rollouts.indices)
            func loss() throws -> Double { try update.accumulate(rollouts, indices: indices).loss(valueCoefficient: 0.1) }
            policy.model.parameters.zeroGrad()
            let f = try update.accumulate(rollouts, indices: indices)
            XCTAssertGreaterThan(f.clipped, 0, "some tokens must take the clipped branch")
            XCTAssertNotEqual(f.klLoss, 0, "the KL term is in the loss")
            XCTAssertEqual(f.valueLoss, 0, "no critic")
            XCTAssertNil(f.metrics(critic: false)["loss/value_avg"])
            // The clipping kinks, as PPO's own check: 3% of the value.
            try assertGradientMatchesCentralDifferences(policy.model, "\(estimator)", relative: 3e-2, loss: loss)
        }
    }

    /// The toy reward of PPOTrainingTests (the share of tokens below id 64; a random policy starts
    /// near 1/8) through PPOLoop without a critic: 8 prompts x 4 responses per iteration (the
    /// responses PPO's toy run takes from 16 prompts, doubled), 30 iterations. Tolerance as PPO's:
    /// the last three iterations' mean share above 0.5.
    /// With `adapter`, `policy` is a frozen base and the adapter is what trains (decoded unmerged).
    func runToy(_ estimation: RLEstimation, directory: String, iterations: Int = 30, validation: PolicyValidationSchedule? = nil,
                policy: LlamaModel? = nil, adapter: LoRAAdapter? = nil) throws -> [Double] {
        let f = try StageFixtures.fixture()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
        let prompts = PPOTrainingTests.toyPrompts
        var s = PPOSettings()
        (s.iterations, s.promptsPerIteration, s.miniBatches, s.ppoEpochs) = (iterations, 8, 2, 2)
        s.sampling = SamplingSettings(temperature: 1, topK: 0, topP: 1, maxNewTokens: 8)
        s.missingEOSScore = nil
        s.beta = 0.01
        s.policyOptimization = OptimizationSettings(learningRate: 1e-2, schedule: .constant, warmupRatio: 0)
        (s.rows, s.maxSequences, s.checkpointEvery, s.sampleEvery) = (4, 32, 100, 0)
        let policy = try policy ?? LlamaModel(config: config, heads: .lm, seed: 11)
        let policyPass = try ResponseTokenPass(model: policy, rows: 4, seqLen: 64, padToken: templated.info.eosID, adapter: adapter)
        let reference = try ResponseTokenPass(model: try LlamaModel(config: config, heads: .lm, seed: 11), rows: 4, seqLen: 64, padToken: templated.info.eosID)
        let rollouts = PPORollouts(settings: s, prompts: prompts, sampler: try PolicySampler(model: policy, templated: templated, maxSequences: 32, adapter: adapter),
                                   policy: policyPass, reference: reference, critic: nil, scorer: PPOTrainingTests.LowTokenScorer(),
                                   reward: CombinedReward(), estimation: estimation)
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("rl-toy-\(getpid())")
        defer { try? FileManager.default.removeItem(at: runs) }
        let stage = try StageWriter.begin(runsRoot: runs, run: "r", stage: directory, kind: "rl", config: s, seed: 1)
        let loop = PPOLoop(settings: s, stage: stage, rollouts: rollouts,
                           update: PPOUpdate(policy: policyPass, critic: nil, loss: s.loss,
                                             lossKL: estimation.klIn == .loss ? LossKL(estimator: .k3, beta: s.beta) : nil, temperature: 1),
                           judgeEvery: 0, judge: nil, validation: validation, log: { _ in })
        var shares: [Double] = []
        let summary = try loop.run { event in
            if case .step(let r) = event {
                shares.append((r.extra["scores/helpfulness"] ?? 0) / 4)
                XCTAssertNil(r.extra["lr/value"], "no critic, no critic learning rate")
                XCTAssertTrue(r.extra["objective/kl"]!.isFinite)
            }
        }
        XCTAssertLessThan(summary.last["objective/kl"]!, s.maxKL)
        print("\(estimation.estimator.rawValue) toy reward: share of low tokens by iteration", shares.map { String(format: "%.2f", $0) }.joined(separator: " "))
        XCTAssertEqual(shares.count, iterations)
        XCTAssertLessThan(shares.prefix(min(3, iterations)).reduce(0, +) / Double(min(3, iterations)), 0.3, "a random policy starts near 1/8")
        return shares
    }

    func testGRPOWithTheKLInTheLossLearnsAToyReward() throws {
        let shares = try runToy(RLEstimation(estimator: .grpo, groupSize: 4, klIn: .loss), directory: "grpo")
        XCTAssertGreaterThan(shares.suffix(3).reduce(0, +) / 3, 0.5, "\(shares.map { String(format: "%.2f", $0) })")
    }

    func testRLOOWithTheKLInTheRewardLearnsAToyReward() throws {
        let shares = try runToy(RLEstimation(estimator: .rloo, groupSize: 4, klIn: .reward), directory: "rloo")
        XCTAssertGreaterThan(shares.suffix(3).reduce(0, +) / 3, 0.5, "\(shares.map { String(format: "%.2f", $0) })")
    }

    /// Early stopping: a validator whose figure peaks at iteration 2 of 4 (validated every iteration)
    /// leaves the stage with iteration 2's policy, bit for bit the policy of a run stopped after 2
    /// iterations (the prompts, seeds and constant learning rate of an iteration do not depend on the
    /// run's length); without keepBest the last policy stays.
    func testKeepBestLeavesThePolicyOfTheBestValidation() throws {
        let peak: [Int: Double] = [0: 0.5, 1: 0.55, 2: 0.7, 3: 0.6, 4: 0.65]
        var seen: [Int] = []
        let validator: PPOStage.PolicyJudge = { iteration, _ in
            seen.append(iteration)
            return [PolicyValidationSchedule.figure: peak[iteration]!]
        }
        func weights(_ m: LlamaModel) -> [Float] { Array(UnsafeBufferPointer(start: m.parameters.values.base, count: m.parameters.totalCount)) }
        let estimation = RLEstimation(estimator: .rloo, groupSize: 4)
        let kept = try LlamaModel(config: config, heads: .lm, seed: 11)
        _ = try runToy(estimation, directory: "best", iterations: 4, validation: PolicyValidationSchedule(judge: validator, every: 1, keepBest: true), policy: kept)
        XCTAssertEqual(seen, [0, 1, 2, 3, 4], "validated before the first iteration and after each")
        let two = try LlamaModel(config: config, heads: .lm, seed: 11)
        _ = try runToy(estimation, directory: "two", iterations: 2, policy: two)
        XCTAssertEqual(weights(kept), weights(two), "the kept policy is iteration 2's")
        let last = try LlamaModel(config: config, heads: .lm, seed: 11)
        _ = try runToy(estimation, directory: "last", iterations: 4, validation: PolicyValidationSchedule(judge: validator, every: 1, keepBest: false), policy: last)
        XCTAssertNotEqual(weights(last), weights(two), "without keep-best the last policy stays")
    }

    /// keep-best with a LoRA policy keeps the adapter of the best validation (iteration 2 of 4), bit for
    /// bit the adapter of a run stopped after 2 iterations, and never touches the frozen base.
    func testKeepBestWithLoRAKeepsTheBestIterationsAdapter() throws {
        let peak: [Int: Double] = [0: 0.5, 1: 0.55, 2: 0.7, 3: 0.6, 4: 0.65]
        let validator: PPOStage.PolicyJudge = { iteration, _ in [PolicyValidationSchedule.figure: peak[iteration]!] }
        func values(_ p: ParameterSet) -> [UInt32] { Array(UnsafeBufferPointer(start: p.values.base, count: p.totalCount)).map(\.bitPattern) }
        let estimation = RLEstimation(estimator: .rloo, groupSize: 4)
        func run(_ directory: String, iterations: Int, keepBest: Bool?) throws -> (adapter: LoRAAdapter, base: LlamaModel) {
            let base = try LlamaModel(config: config, heads: .lm, seed: 11)
            base.parameters.releaseGradients()
            let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 8), seed: 5)
            _ = try runToy(estimation, directory: directory, iterations: iterations,
                           validation: keepBest.map { PolicyValidationSchedule(judge: validator, every: 1, keepBest: $0) }, policy: base, adapter: adapter)
            return (adapter, base)
        }
        let kept = try run("lora-best", iterations: 4, keepBest: true)
        let two = try run("lora-two", iterations: 2, keepBest: nil)
        let last = try run("lora-last", iterations: 4, keepBest: false)
        XCTAssertEqual(values(kept.adapter.parameters), values(two.adapter.parameters), "the kept adapter is iteration 2's")
        XCTAssertNotEqual(values(last.adapter.parameters), values(two.adapter.parameters), "without keep-best the last adapter stays")
        XCTAssertTrue(kept.adapter.allModules.contains { $0.b.array.contains { $0 != 0 } }, "the adapter trained")
        XCTAssertEqual(values(kept.base.parameters), values(try LlamaModel(config: config, heads: .lm, seed: 11).parameters), "the base is untouched")
    }
}
