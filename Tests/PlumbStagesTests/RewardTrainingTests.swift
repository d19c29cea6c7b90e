import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbTensor
import XCTest

/// A synthetic preference a reward model must learn: the chosen sequence contains the marker token,
/// the rejected one does not (otherwise both are random tokens ending in EOS, the read-out position).
final class RewardTrainingTests: XCTestCase {
    static let marker: Int32 = 7, eos: Int32 = 2
    let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 32, maxSeqLen: 32)

    static func pairs(_ count: Int, seed: UInt64) -> [RewardPair] {
        var rng = SeededRNG(seed: seed)
        func body() -> [Int32] {
            (0..<Int.random(in: 6...12, using: &rng)).map { _ in
                var t: Int32
                repeat { t = Int32.random(in: 3..<32, using: &rng) } while t == marker
                return t
            }
        }
        return (0..<count).map { i in
            var chosen = body()
            chosen.insert(marker, at: Int.random(in: 0..<chosen.count, using: &rng))
            return RewardPair(chosen: [1] + chosen + [eos], rejected: [1] + body() + [eos], margin: 0, record: i)
        }
    }

    func accuracy(_ model: LlamaModel, _ pairs: [RewardPair]) throws -> Double {
        let scorer = try RewardScorer(model: model, seqLen: 32, padToken: Self.eos)
        let r = try scorer.scores(RewardBatches.interleaved(Array(pairs.indices), pairs: pairs))
        return Double(pairs.indices.filter { r[2 * $0] > r[2 * $0 + 1] }.count) / Double(pairs.count)
    }

    /// 400 training pairs, 3 epochs of micro-batches of 4 rows x 32 tokens (about 3 pairs each):
    /// held-out accuracy on 200 fresh pairs must exceed 90%, from about 50% at the start.
    func testLearnsASyntheticPreference() throws {
        let model = try LlamaModel(config: config, heads: .reward, seed: 5)
        RewardTrainingTests.initialiseHead(model)
        let train = Self.pairs(400, seed: 1), heldOut = Self.pairs(200, seed: 2)
        let before = try accuracy(model, heldOut)
        let plan = try RewardBatches.plan(pairs: train, rows: 4, seqLen: 32, accumulation: 1, epochs: 3, seed: 1)
        let objective = try RewardObjective(model: model, train: train, validation: [], rows: 4, seqLen: 32, padToken: Self.eos, centring: 0)
        let settings = LoopSettings(optimization: OptimizationSettings(learningRate: 3e-3, warmupRatio: 0.03), checkpointEvery: 0, evaluateEvery: 0)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rm-train-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try TrainingLoop(model: model, plan: plan, settings: settings, checkpointRoot: dir).run(objective)
        let after = try accuracy(model, heldOut)
        print("synthetic preference: \(summary.steps) steps, held-out accuracy \(before) -> \(after)")
        XCTAssertLessThan(before, 0.7, "the task is not solved before training")
        XCTAssertGreaterThan(after, 0.9, "held-out accuracy after \(summary.steps) steps")
    }

    static func initialiseHead(_ model: LlamaModel) {
        var rng = SeededRNG(seed: 11)
        rng.fillNormal(model.weights.rewardHead!, std: 1 / Float(model.config.dim).squareRoot())
    }

    /// A score is a function of the sequence: the same bits scored alone (in a scorer of another
    /// window), among others, or in reverse order (SequenceForward).
    func testAScoreIsTheSameBitsAloneOrAmongOthers() throws {
        let model = try LlamaModel(config: config, heads: .reward, seed: 3)
        Self.initialiseHead(model)
        let sequences = RewardBatches.interleaved(Array(0..<10), pairs: Self.pairs(10, seed: 4))
        let together = try RewardScorer(model: model, seqLen: 32, padToken: Self.eos).scores(sequences)
        let single = try sequences.flatMap { try RewardScorer(model: model, seqLen: 16, padToken: Self.eos).scores([$0]) }
        let reversed = try RewardScorer(model: model, seqLen: 32, padToken: Self.eos).scores(sequences.reversed())
        XCTAssertEqual(together.map(\.bitPattern), single.map(\.bitPattern))
        XCTAssertEqual(together.map(\.bitPattern), reversed.reversed().map(\.bitPattern))
        XCTAssertGreaterThan(Set(together).count, 5, "distinct sequences score differently")
    }

    /// With the likelihood term, a score is the head's plus beta times the response's log-likelihood
    /// as ResponseLikelihood (itself checked against a Double reference) computes it; alone or not.
    func testLikelihoodTermAddsBetaTimesTheResponseLogLikelihood() throws {
        let model = try LlamaModel(config: config, heads: [.reward, .lm], seed: 6)
        Self.initialiseHead(model)
        let pairs = Self.promptedPairs(6, seed: 12), all = Array(pairs.indices)
        let sequences = RewardBatches.interleaved(all, pairs: pairs), starts = RewardBatches.interleavedResponseStarts(all, pairs: pairs)
        let head = try RewardScorer(model: model, seqLen: 32, padToken: Self.eos).scores(sequences)
        let examples = try zip(sequences, starts).map { try ResponseLikelihood.example(TokenizedExample(tokens: $0, promptCount: $1), seqLen: 32) }
        let single = try ResponseLikelihood(model: model, seqLen: 32, padToken: Self.eos)
        let logLikelihoods = try single.logLikelihoods(examples), centred = try single.logLikelihoods(examples, centred: true)
        for kind in [RewardLikelihoodTerm.Kind.sum, .mean, .centred] {
            let term = RewardLikelihoodTerm(kind: kind, weight: 0.7)
            let packed = try RewardScorer(model: model, seqLen: 32, padToken: Self.eos, likelihood: term).scores(sequences, responseStarts: starts)
            let single = try sequences.indices.flatMap {
                try RewardScorer(model: model, seqLen: 16, padToken: Self.eos, likelihood: term).scores([sequences[$0]], responseStarts: [starts[$0]])
            }
            for i in sequences.indices {
                let l = logLikelihoods[i]
                let value = kind == .sum ? l.logProb : kind == .mean ? l.logProb / Double(l.tokens) : centred[i].logProb
                XCTAssertEqual(Double(packed[i]), Double(head[i]) + 0.7 * value, accuracy: 1e-4 * max(1, abs(value)), "\(kind) sequence \(i)")
                XCTAssertEqual(packed[i].bitPattern, single[i].bitPattern, "\(kind) sequence \(i): the same bits alone")
            }
        }
        XCTAssertThrowsError(try RewardScorer(model: model, seqLen: 32, padToken: Self.eos, likelihood: .init(kind: .sum, weight: 1)).scores(sequences),
                             "the term needs where responses start")
    }

    /// Both responses of a comparison share a micro-batch; every pair appears once per epoch.
    func testPlanKeepsPairsTogetherAndCoversEveryPair() throws {
        let pairs = Self.pairs(50, seed: 6)
        let plan = try RewardBatches.plan(pairs: pairs, rows: 2, seqLen: 32, accumulation: 2, epochs: 2, seed: 3)
        let all = plan.steps.flatMap { $0.flatMap { $0 } }
        XCTAssertEqual(all.count, 100)
        XCTAssertEqual(Set(all), Set(0..<50))
        for micro in plan.steps.flatMap({ $0 }) {
            // The packed layout of the micro-batch must fit its 2 rows (it throws otherwise).
            let layout = try RewardBatches.layout(RewardBatches.interleaved(micro, pairs: pairs), rows: 2, seqLen: 32, padToken: Self.eos)
            XCTAssertEqual(layout.spans.count, 2 * micro.count)
        }
    }

    /// The objective's gradient agrees with central finite differences of its loss, on the reward head
    /// and on a trunk weight (Float32 forward: a loose relative tolerance).
    func testGradientMatchesFiniteDifferences() throws {
        for term in [RewardLikelihoodTerm.none, .init(kind: .sum, weight: 0.3), .init(kind: .mean, weight: 2), .init(kind: .centred, weight: 3)] {
            try checkGradient(term)
        }
    }

    /// Pairs whose responses start after a 3-token prompt (the likelihood term sums from there).
    static func promptedPairs(_ count: Int, seed: UInt64) -> [RewardPair] {
        pairs(count, seed: seed).map { var q = $0; q.chosenResponseStart = 3; q.rejectedResponseStart = 3; return q }
    }

    func checkGradient(_ term: RewardLikelihoodTerm) throws {
        let model = try LlamaModel(config: config, heads: term.heads, seed: 8)
        Self.initialiseHead(model)
        let pairs = Self.promptedPairs(3, seed: 9).enumerated().map { i, p in var q = p; q.margin = [0, 1.0 / 3, 1][i]; return q }
        let objective = try RewardObjective(model: model, train: pairs, validation: [], rows: 4, seqLen: 32, padToken: Self.eos, centring: 0.05,
                                            likelihood: term)
        model.parameters.zeroGrad()
        _ = try objective.accumulate(indices: [0, 1, 2], scale: 1)
        var checked = [("score.weight", 3), ("model.layers.1.mlp.down_proj.weight", 17), ("model.layers.0.self_attn.q_proj.weight", 40)]
        if term.isActive { checked.append(("model.embed_tokens.weight", 7 * config.dim + 5)) }   // the tied LM head's row of token 7
        for (name, index) in checked {
            let w = try model.parameters.value(name), g = try model.parameters.gradient(name).pointer[index]
            let original = w.pointer[index], h: Float = 1e-2
            w.pointer[index] = original + h
            let plus = try objective.accumulate(indices: [0, 1, 2], scale: 0).loss
            w.pointer[index] = original - h
            let minus = try objective.accumulate(indices: [0, 1, 2], scale: 0).loss
            w.pointer[index] = original
            let numeric = (plus - minus) / (2 * h)
            XCTAssertEqual(g, numeric, accuracy: 2e-3 + 0.05 * abs(numeric), "\(term.kind) \(name)[\(index)]")
        }
    }
}
