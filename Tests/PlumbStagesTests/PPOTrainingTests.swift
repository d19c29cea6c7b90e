// PPO through real models: the first update's ratio is exactly 1 (the rollout's log-probabilities come
// from the same training forward pass); the update's gradients of both models against central
// differences of its loss; a tiny policy learns a toy reward within a stated number of iterations
// with its KL bounded.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import PlumbTensor
import XCTest

final class PPOTrainingTests: XCTestCase {
    let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 64)
    let temperature: Float = 0.7

    /// `count` responses of random tokens (prompts of 4-8 tokens, responses of 2-7).
    static func syntheticRollouts(_ count: Int, seed: UInt64) throws -> [Rollout] {
        var rng = SeededRNG(seed: seed)
        return try (0..<count).map { i in
            let p = 4 + i % 5, r = 2 + (i * 3) % 6
            let tokens = (0..<(p + r)).map { _ in Int32(rng.next() % 512) }
            let example = try ResponseLikelihood.example(TokenizedExample(tokens: tokens, promptCount: p), seqLen: 63)
            return Rollout(promptID: "p\(i)", safetyPrompt: false, example: example, response: Array(tokens[p...]), text: "", finished: true)
        }
    }

    /// Policy and critic passes over the rollouts, with the rollout-side numbers filled in:
    /// old log-probabilities and values from the passes shifted by `logProbShift(t)` and
    /// `valueShift(t)`, advantages and returns drawn from `seed`.
    func prepared(_ rollouts: inout [Rollout], seed: UInt64, logProbShift: (Int) -> Float = { _ in 0 },
                  valueShift: (Int) -> Float = { _ in 0 }) throws -> PPOUpdate {
        let policy = try ResponseTokenPass(model: try LlamaModel(config: config, heads: .lm, seed: 4), rows: 4, seqLen: 63, padToken: 0)
        let critic = try ResponseTokenPass(model: try LlamaModel(config: config, heads: .value, seed: 5), rows: 4, seqLen: 63, padToken: 0)
        let lp = try policy.logProbs(rollouts.map(\.example), logitScale: 1 / temperature, entropies: false)
        let v = try critic.values(rollouts.map(\.example))
        var rng = SeededRNG(seed: seed)
        var k = 0
        for i in rollouts.indices {
            XCTAssertEqual(lp[i].logProbs.count, rollouts[i].tokenCount, "one log-probability per response token")
            rollouts[i].logProbs = lp[i].logProbs.map { x in defer { k += 1 }; return x + logProbShift(k) }
            rollouts[i].values = v[i].enumerated().map { $1 + valueShift($0 + k) }
            rollouts[i].advantages = v[i].map { _ in rng.normal() }
            rollouts[i].returns = v[i].map { Double($0) + rng.normal() }
        }
        return PPOUpdate(policy: policy, critic: critic, loss: PPOLoss(), temperature: temperature)
    }

    /// The rollout's log-probabilities come from one-sequence passes (batch-invariant), the update's
    /// from packed training batches: the same function with other product shapes, so the first
    /// update's ratio is 1 up to float32 rounding in any order of the rollouts. 1e-5 per token is
    /// ~100 ulps of a log-probability of size ~6 (vocabulary 512); nothing is clipped.
    func testFirstUpdateRecomputesTheRolloutLogProbabilities() throws {
        var rollouts = try Self.syntheticRollouts(12, seed: 1)
        let update = try prepared(&rollouts, seed: 2)
        for indices in [Array(0..<7), [7, 2, 11, 0, 5, 9, 1, 3, 10, 4, 8, 6]] {
            let figures = try update.accumulate(rollouts, indices: indices)
            XCTAssertEqual(figures.tokens, indices.reduce(0) { $0 + rollouts[$1].tokenCount })
            XCTAssertEqual(figures.ratio / Double(figures.tokens), 1, accuracy: 1e-5, "\(indices)")
            XCTAssertEqual(figures.approxKL / Double(figures.tokens), 0, accuracy: 1e-9, "\(indices)")
            XCTAssertEqual(figures.clipped, 0)
        }
    }

    /// Rollout log-probabilities and values are functions of the rollout: the same bits alone.
    func testRolloutPassesGiveTheSameBitsAloneOrTogether() throws {
        let rollouts = try Self.syntheticRollouts(9, seed: 5)
        let policy = try ResponseTokenPass(model: try LlamaModel(config: config, heads: .lm, seed: 4), rows: 4, seqLen: 63, padToken: 0)
        let critic = try ResponseTokenPass(model: try LlamaModel(config: config, heads: .value, seed: 5), rows: 4, seqLen: 63, padToken: 0)
        let examples = rollouts.map(\.example)
        let together = try policy.logProbs(examples, logitScale: 1 / temperature, entropies: true)
        let values = try critic.values(examples)
        for i in examples.indices {
            let alone = try policy.logProbs([examples[i]], logitScale: 1 / temperature, entropies: true)[0]
            XCTAssertEqual(together[i].logProbs.map(\.bitPattern), alone.logProbs.map(\.bitPattern), "rollout \(i)")
            XCTAssertEqual(together[i].entropy.map(\.bitPattern), alone.entropy.map(\.bitPattern), "rollout \(i) entropies")
            XCTAssertEqual(values[i].map(\.bitPattern), try critic.values([examples[i]])[0].map(\.bitPattern), "rollout \(i) values")
        }
    }

    /// Old log-probabilities and values shifted by +-0.05 (inside the clip ranges) or +-0.5 (outside),
    /// so both branches of each clip are exercised away from their kinks.
    func testUpdateGradientsMatchCentralDifferencesForBothModels() throws {
        var rollouts = try Self.syntheticRollouts(6, seed: 3)
        let shifts: [Float] = [0.05, -0.5, -0.05, 0.5]
        let update = try prepared(&rollouts, seed: 4, logProbShift: { shifts[$0 % 4] }, valueShift: { shifts[($0 + 1) % 4] })
        let indices = Array(rollouts.indices)
        func loss() throws -> Double { try update.accumulate(rollouts, indices: indices).loss(valueCoefficient: update.loss.valueCoefficient) }
        for model in [update.policy.model, update.critic!.model] {
            update.policy.model.parameters.zeroGrad()
            update.critic!.model.parameters.zeroGrad()
            let f = try update.accumulate(rollouts, indices: indices)
            XCTAssertGreaterThan(f.clipped, 0, "some tokens must take the clipped branch")
            XCTAssertGreaterThan(f.valueClipped, 0)
            // Clipping kinks make the differences rougher than DPO's: 3% of the value.
            try assertGradientMatchesCentralDifferences(model, "\(model.heads)", relative: 3e-2, loss: loss)
        }
    }

    /// A toy reward: the share of a response's tokens whose id is below 64 (1/8 of the vocabulary,
    /// so a random policy starts near 0.125), given as both raw scores so the gate's rule cannot
    /// matter. Test tolerance: the last iterations' mean share at least 0.5 within 30 iterations.
    /// The toy runs' 40 prompts (PPO's and the critic-free estimators').
    static let toyPrompts = (0..<40).map { i in
        PromptRecord(prompt: Prompt(id: "toy-\(i)", messages: [.user("Tell me about item \(i).")], tags: ["helpfulness"]),
                     source: SourceRef(file: "toy", line: i + 1))
    }

    final class LowTokenScorer: ResponseScorer {
        func scores(_ sequences: [TokenizedExample]) throws -> [(helpfulness: Float, safety: Float)] {
            sequences.map { s in
                let response = s.tokens[s.promptCount...]
                let share = Float(response.filter { $0 < 64 }.count) / Float(max(response.count, 1))
                return (4 * share, 4 * share)
            }
        }
    }

    func testTinyPolicyLearnsAToyRewardWithBoundedKL() throws {
        let f = try StageFixtures.fixture()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
        let prompts = PPOTrainingTests.toyPrompts
        var s = PPOSettings()
        s.iterations = 30
        s.promptsPerIteration = 16
        s.miniBatches = 2
        s.sampling = SamplingSettings(temperature: 1, topK: 0, topP: 1, maxNewTokens: 8)
        s.missingEOSScore = nil
        s.beta = 0.01
        s.policyOptimization = OptimizationSettings(learningRate: 1e-2, schedule: .constant, warmupRatio: 0)
        s.valueOptimization = OptimizationSettings(learningRate: 3e-3, schedule: .constant, warmupRatio: 0)
        s.rows = 4
        s.maxSequences = 16
        s.checkpointEvery = 100
        s.sampleEvery = 0
        let policy = try LlamaModel(config: config, heads: .lm, seed: 11)
        let critic = try LlamaModel(config: config, heads: .value, seed: 12)
        let policyPass = try ResponseTokenPass(model: policy, rows: 4, seqLen: 64, padToken: templated.info.eosID)
        let rollouts = PPORollouts(settings: s, prompts: prompts, sampler: try PolicySampler(model: policy, templated: templated, maxSequences: 16),
                                   policy: policyPass, reference: try ResponseTokenPass(model: try LlamaModel(config: config, heads: .lm, seed: 11), rows: 4, seqLen: 64, padToken: templated.info.eosID),
                                   critic: try ResponseTokenPass(model: critic, rows: 4, seqLen: 64, padToken: templated.info.eosID),
                                   scorer: LowTokenScorer(), reward: CombinedReward())
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("ppo-toy-\(getpid())")
        defer { try? FileManager.default.removeItem(at: runs) }
        let stage = try StageWriter.begin(runsRoot: runs, run: "r", stage: "ppo", kind: "ppo", config: s, seed: 1)
        let loop = PPOLoop(settings: s, stage: stage, rollouts: rollouts,
                           update: PPOUpdate(policy: policyPass, critic: rollouts.critic, loss: s.loss, temperature: 1),
                           judgeEvery: 0, judge: nil, log: { _ in })
        var shares: [Double] = [], kls: [Double] = []
        _ = try loop.run { event in
            if case .step(let r) = event {
                shares.append((r.extra["scores/helpfulness"] ?? 0) / 4)
                kls.append(r.extra["objective/kl"] ?? .nan)
            }
        }
        print("PPO toy reward: share of low tokens by iteration", shares.map { String(format: "%.2f", $0) }.joined(separator: " "),
              "; KL", kls.map { String(format: "%.2f", $0) }.joined(separator: " "))
        XCTAssertEqual(shares.count, 30)
        XCTAssertLessThan(shares.prefix(3).reduce(0, +) / 3, 0.3, "a random policy starts near 1/8")
        XCTAssertGreaterThan(shares.suffix(3).reduce(0, +) / 3, 0.5, "shares by iteration: \(shares.map { String(format: "%.2f", $0) })")
        XCTAssertLessThan(kls.max()!, s.maxKL)
        XCTAssertTrue(kls.allSatisfy(\.isFinite))
    }
}
