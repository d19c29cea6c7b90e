// DPO: each loss and its gradient against independent Double formulas and central differences; the
// objective's gradient through the whole model against finite differences; log 2 when the policy is
// the reference; the stage with a cached reference equal to a recomputed one, identical pairs
// quarantined, and a killed stage resumed to the same weights.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import PlumbTensor
import XCTest

final class DPOTests: XCTestCase {
    static func logSigmoid(_ x: Double) -> Double { -log(1 + exp(-x)) }

    /// The losses written out again from METHODS.md section 6, on raw sums.
    func reference(_ kind: DPOLossKind, beta: Double, e: Double, rpo: Double, w: DPOLoss.Response, l: DPOLoss.Response, normalised: Bool) -> Double {
        let mw = w.policy / Double(w.tokens), ml = l.policy / Double(l.tokens)
        if kind == .simpo { return -Self.logSigmoid(beta * mw - beta * ml - 0.5) - rpo * mw }
        if kind == .orpo {
            // log odds = log(p / (1 - p)) with p = exp(m), written from the definition.
            let pw = exp(mw), pl = exp(ml)
            return -mw - beta * Self.logSigmoid(log(pw / (1 - pw)) - log(pl / (1 - pl))) - rpo * mw
        }
        let avg = normalised || kind == .ipo
        let h = (w.policy - w.reference) / (avg ? Double(w.tokens) : 1) - (l.policy - l.reference) / (avg ? Double(l.tokens) : 1)
        var loss: Double
        switch kind {
        case .sigmoid: loss = -Self.logSigmoid(beta * h)
        case .robust: loss = -(1 - e) * Self.logSigmoid(beta * h) - e * Self.logSigmoid(-beta * h)
        case .ipo: loss = pow(h - 1 / (2 * beta), 2)
        case .hinge: loss = max(0, 1 - beta * h)
        case .simpo, .orpo: fatalError("reference-free losses return above")
        }
        return loss - rpo * w.policy / Double(w.tokens)
    }

    func testEachLossAndGradientAgainstFormulasAndCentralDifferences() {
        let cases: [(DPOLoss.Response, DPOLoss.Response)] = [
            (.init(policy: -12.5, reference: -13, tokens: 5), .init(policy: -20, reference: -18.25, tokens: 9)),
            (.init(policy: -3, reference: -7, tokens: 2), .init(policy: -30, reference: -25, tokens: 11)),
            (.init(policy: -40, reference: -39, tokens: 14), .init(policy: -8, reference: -9.5, tokens: 3)),
        ]
        for kind in DPOLossKind.allCases {
            for (rpo, normalised) in [(0.0, false), (0.5, false), (0.0, true)] {
                let loss = DPOLoss(kind: kind, beta: 0.3, labelSmoothing: 0.1, rpo: rpo, lengthNormalised: normalised)
                for (w, l) in cases {
                    let v = loss.evaluate(chosen: w, rejected: l)
                    let label = "\(kind) rpo \(rpo) normalised \(normalised)"
                    XCTAssertEqual(v.loss, reference(kind, beta: 0.3, e: 0.1, rpo: rpo, w: w, l: l, normalised: normalised), accuracy: 1e-12, label)
                    let step = 1e-5
                    func at(_ dw: Double, _ dl: Double) -> Double {
                        loss.evaluate(chosen: .init(policy: w.policy + dw, reference: w.reference, tokens: w.tokens),
                                      rejected: .init(policy: l.policy + dl, reference: l.reference, tokens: l.tokens)).loss
                    }
                    XCTAssertEqual(v.dChosen, (at(step, 0) - at(-step, 0)) / (2 * step), accuracy: 1e-6, label)
                    XCTAssertEqual(v.dRejected, (at(0, step) - at(0, -step)) / (2 * step), accuracy: 1e-6, label)
                }
            }
        }
        // No margin at all: DPO's loss is log 2 and the implicit rewards are 0.
        let even = DPOLoss().evaluate(chosen: .init(policy: -5, reference: -5, tokens: 3), rejected: .init(policy: -9, reference: -9, tokens: 4))
        XCTAssertEqual(even.loss, log(2), accuracy: 1e-12)
        XCTAssertEqual(even.rewardChosen, 0)
        // SimPO and ORPO ignore the reference: moving it changes nothing.
        for kind in [DPOLossKind.simpo, .orpo] {
            let loss = DPOLoss(kind: kind, beta: 2)
            XCTAssertFalse(kind.needsReference)
            let a = loss.evaluate(chosen: cases[0].0, rejected: cases[0].1)
            let moved = loss.evaluate(chosen: .init(policy: cases[0].0.policy, reference: 0, tokens: cases[0].0.tokens),
                                      rejected: .init(policy: cases[0].1.policy, reference: -99, tokens: cases[0].1.tokens))
            XCTAssertEqual(a, moved, "\(kind)")
        }
    }

    let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 32, maxSeqLen: 32)

    /// Random pairs with a prompt of 4-6 tokens and responses of 2-9 tokens, the policy's own
    /// log-probabilities as the reference.
    func pairs(_ model: LlamaModel, count: Int, seed: UInt64) throws -> [DPOPair] {
        var rng = SeededRNG(seed: seed)
        func example() throws -> BatchLayout.Example {
            let prompt = Int.random(in: 4...6, using: &rng)
            let tokens = (0..<(prompt + Int.random(in: 2...9, using: &rng))).map { _ in Int32.random(in: 3..<32, using: &rng) }
            return try ResponseLikelihood.example(TokenizedExample(tokens: tokens, promptCount: prompt), seqLen: 31)
        }
        var out = try (0..<count).map { i in DPOPair(id: "p\(i)", chosen: try example(), rejected: try example(), referenceChosen: 0, referenceRejected: 0) }
        let values = try ResponseLikelihood(model: model, seqLen: 32, padToken: 0).logLikelihoods(out.flatMap { [$0.chosen, $0.rejected] })
        for i in out.indices { out[i].referenceChosen = values[2 * i].logProb; out[i].referenceRejected = values[2 * i + 1].logProb }
        return out
    }

    func testPolicyEqualToReferenceGivesLogTwo() throws {
        let model = try LlamaModel(config: config, heads: .lm, seed: 4)
        let data = try pairs(model, count: 6, seed: 3)
        let objective = try DPOObjective(model: model, train: data, validation: data, loss: DPOLoss(), rows: 4, seqLen: 32, padToken: 0)
        let eval = try objective.evaluate()
        XCTAssertEqual(eval["eval_loss"]!, log(2), accuracy: 1e-5)
        XCTAssertEqual(eval["eval_rewards/margins"]!, 0, accuracy: 1e-5)
        model.parameters.zeroGrad()
        XCTAssertEqual(Double(try objective.accumulate(indices: [0, 1, 2], scale: 1).loss), log(2), accuracy: 1e-5)
    }

    /// The gradient the objective accumulates, against central differences of its loss, on the
    /// parameter elements with the largest gradients (and a few others): DPO with RPO, IPO and ORPO.
    func testObjectiveGradientMatchesFiniteDifferences() throws {
        for loss in [DPOLoss(kind: .sigmoid, beta: 0.5, rpo: 0.2), DPOLoss(kind: .ipo, beta: 0.5), DPOLoss(kind: .orpo, beta: 0.5)] {
            let model = try LlamaModel(config: config, heads: .lm, seed: 6)
            var data = try pairs(model, count: 3, seed: 9)
            for i in data.indices { data[i].referenceChosen -= 0.7; data[i].referenceRejected += 0.4 }   // a margin away from 0
            let objective = try DPOObjective(model: model, train: data, validation: data, loss: loss, rows: 4, seqLen: 32, padToken: 0)
            model.parameters.zeroGrad()
            _ = try objective.accumulate(indices: [0, 1, 2], scale: 1)
            try assertGradientMatchesCentralDifferences(model, "\(loss.kind)") { try objective.evaluate()["eval_loss"]! }
        }
    }

    // MARK: the stage

    /// 48 of the quick task's comparisons imported (validation share 0.25) and a random policy.
    func stageInputs() throws -> (tokenizer: URL, policy: URL, data: URL, runs: URL) { try StageFixtures.comparisonInputs() }

    func parameters() -> DPOStage.Parameters {
        var p = DPOStage.Parameters()
        p.seqLen = 95
        p.rows = 4
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-3), checkpointEvery: 3, evaluateEvery: 0)
        return p
    }

    /// SimPO and ORPO read no reference: the stage computes and caches none, trains, and refuses a
    /// --reference it would ignore.
    func testReferenceFreeLossesComputeNoReference() throws {
        let i = try stageInputs()
        let inputs = StageInputs(["tokenizer": [i.tokenizer], "init-from": [i.policy], "data": [i.data]])
        var p = parameters()
        p.loss = DPOLoss(kind: .simpo, beta: 2)
        let summary = try StageRun.run(DPOStage.self, p, inputs: inputs, location: StageLocation(runsRoot: i.runs, run: "r", stage: "simpo")).training
        let stage = i.runs.appendingPathComponent("r/simpo")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stage.appendingPathComponent(ReferenceLogProbs.directoryName).path))
        XCTAssertNil(try StageManifest.read(from: stage).metrics["reference_computed"])
        XCTAssertGreaterThan(summary.steps, 0)
        XCTAssertEqual(summary.nonFiniteSteps, 0)
        XCTAssertNotEqual(summary.finalEvaluation["eval_loss"]!, summary.initialEvaluation["eval_loss"]!, "the weights moved")
        var withReference = inputs
        withReference.paths["reference"] = [i.policy]
        XCTAssertThrowsError(try StageRun.run(DPOStage.self, p, inputs: withReference, location: StageLocation(runsRoot: i.runs, run: "r", stage: "simpo-ref"))) {
            XCTAssertTrue("\($0)".contains("uses no reference policy"), "\($0)")
        }
    }

    func testCachedReferenceEqualsRecomputedAndTrainsTheSameWeights() throws {
        let i = try stageInputs()
        let inputs = StageInputs(["tokenizer": [i.tokenizer], "init-from": [i.policy], "data": [i.data]])
        let a = try StageRun.run(DPOStage.self, parameters(), inputs: inputs, location: StageLocation(runsRoot: i.runs, run: "r", stage: "dpo-a")).training
        var reuse = inputs
        reuse.paths["reference-cache"] = [i.runs.appendingPathComponent("r/dpo-a")]
        let b = try StageRun.run(DPOStage.self, parameters(), inputs: reuse, location: StageLocation(runsRoot: i.runs, run: "r", stage: "dpo-b")).training
        let ma = try StageManifest.read(from: i.runs.appendingPathComponent("r/dpo-a")), mb = try StageManifest.read(from: i.runs.appendingPathComponent("r/dpo-b"))
        XCTAssertEqual(ma.metrics["reference_cached"], 0)
        XCTAssertEqual(mb.metrics["reference_cached"], 1, "the second stage read the first one's cache")
        XCTAssertEqual(a.initialEvaluation["eval_loss"]!, log(2), accuracy: 1e-5, "policy = reference at the start")
        XCTAssertEqual(a.finalEvaluation, b.finalEvaluation)
        let wa = try StageModel.load(i.runs.appendingPathComponent("r/dpo-a")).parameters, wb = try StageModel.load(i.runs.appendingPathComponent("r/dpo-b")).parameters
        XCTAssertEqual(Array(UnsafeBufferPointer(start: wa.values.base, count: wa.totalCount)),
                       Array(UnsafeBufferPointer(start: wb.values.base, count: wb.totalCount)), "the same weights, bit for bit")
        XCTAssertGreaterThan(a.steps, 3)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"] {
            XCTAssertNotNil(ma.metrics["eval_" + key], key)
        }
        // A cache made by another reference (another checksum) is not used.
        XCTAssertNil(try ReferenceLogProbs.read(i.runs.appendingPathComponent("r/dpo-a/reference"), referenceSHA: String(repeating: "0", count: 64), seqLen: 95))
    }

    func testIdenticalPairsAreSetAsideAndLongPairsCutTheSameWay() throws {
        let i = try stageInputs()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: i.tokenizer.path), template: .plumbline)
        let prompt = Prompt(messages: [.user("Compute 5 + 4.")])
        let long = String(repeating: "Brindle lies on the Ashwater river. ", count: 20)
        let encoded = try DPOStage.encode([
            Comparison(id: "same", prompt: prompt, chosen: "9.", rejected: "9.", source: SourceRef(file: "t", line: 1)),
            Comparison(id: "long", prompt: prompt, chosen: long, rejected: "9.", source: SourceRef(file: "t", line: 2)),
        ], templated: templated, seqLen: 40)
        XCTAssertEqual(encoded.identical.map(\.id), ["same"])
        XCTAssertEqual(encoded.pairs.map(\.id), ["long"])
        XCTAssertEqual(encoded.truncated, 1)
        XCTAssertEqual(encoded.pairs[0].chosen.tokens.count, 40, "the long response keeps its last 40 inputs")
    }

    /// Cache entries are found by comparison id and content, whatever the split or position; a pair
    /// whose text changed under the same id is computed again.
    func testReferenceCacheIsKeyedByIdAndContent() throws {
        let i = try stageInputs()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: i.tokenizer.path), template: .plumbline)
        let prompt = Prompt(messages: [.user("Compute 5 + 4.")])
        func pairs(_ comparisons: [(String, String, String)]) throws -> [DPOPair] {
            try DPOStage.encode(comparisons.enumerated().map { n, c in
                Comparison(id: c.0, prompt: prompt, chosen: c.1, rejected: c.2, source: SourceRef(file: "t", line: n + 1))
            }, templated: templated, seqLen: 40).pairs
        }
        let first = try pairs([("a", "9.", "8."), ("b", "It is 9.", "I cannot say.")])
        func attach(_ split: [String: [DPOPair]], _ dir: String, reuse: String?) throws -> (pairs: [String: [DPOPair]], computed: Int) {
            try ReferenceLogProbs.attach(split, reference: i.policy, referenceSHA: "ref", seqLen: 40, padToken: 0,
                                         directory: i.runs.appendingPathComponent(dir), reuse: reuse.map { i.runs.appendingPathComponent($0) },
                                         log: { _ in })
        }
        let made = try attach(["train": first], "cache-1", reuse: nil)
        XCTAssertEqual(made.computed, 2)
        // Other split, other order, read from the first cache: nothing computed, the same figures.
        let moved = try attach(["validation": first.reversed()], "cache-2", reuse: "cache-1")
        XCTAssertEqual(moved.computed, 0)
        let byId = Dictionary(uniqueKeysWithValues: made.pairs["train"]!.map { ($0.id, $0) })
        for p in moved.pairs["validation"]! {
            XCTAssertEqual(p.referenceChosen, byId[p.id]!.referenceChosen)
            XCTAssertEqual(p.referenceRejected, byId[p.id]!.referenceRejected)
        }
        // "a" with another rejected response: its entry does not match, so it alone is computed.
        let edited = try attach(["train": try pairs([("a", "9.", "7."), ("b", "It is 9.", "I cannot say.")])], "cache-3", reuse: "cache-1")
        XCTAssertEqual(edited.computed, 1)
        XCTAssertNotEqual(edited.pairs["train"]![0].referenceRejected, made.pairs["train"]![0].referenceRejected)
        XCTAssertEqual(edited.pairs["train"]![1].referenceRejected, made.pairs["train"]![1].referenceRejected)
    }

    /// A DPO stage killed after step 3 (checkpoint of step 2 on disk, the reference cache whole) and
    /// rerun ends with the same weights as an uninterrupted one.
    func testKilledStageResumesToTheSameWeights() throws {
        let i = try stageInputs()
        _ = try PlumbProcess.binary()
        func arguments(_ stage: String) -> [String] {
            ["dpo", "--tokenizer", i.tokenizer.path, "--init-from", i.policy.path, "--data", i.data.path, "--seq-len", "95", "--rows", "4",
             "--lr", "1e-3", "--checkpoint-every", "2", "--eval-every", "0", "--out", i.runs.appendingPathComponent("r/\(stage)").path]
        }
        XCTAssertEqual(try PlumbProcess.run(arguments("dpo-whole")).0, 0)
        XCTAssertEqual(try PlumbProcess.run(arguments("dpo-killed"), environment: ["PLUMB_KILL_AFTER_STEP": "3"]).1, .uncaughtSignal)
        XCTAssertEqual(try StageManifest.read(from: i.runs.appendingPathComponent("r/dpo-killed")).status, .running)
        XCTAssertEqual(try PlumbProcess.run(arguments("dpo-killed")).0, 0)
        let resumed = try StageManifest.read(from: i.runs.appendingPathComponent("r/dpo-killed"))
        XCTAssertEqual(resumed.metrics["reference_cached"], 1, "the rerun read its own reference cache")
        let a = try StageModel.load(i.runs.appendingPathComponent("r/dpo-whole")).parameters
        let b = try StageModel.load(i.runs.appendingPathComponent("r/dpo-killed")).parameters
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.values.base, count: a.totalCount)),
                       Array(UnsafeBufferPointer(start: b.values.base, count: b.totalCount)))
    }

    /// Both responses of a pair share a micro-batch: a pair that cannot fit the rows is refused
    /// when the plan is made (`rm train --rows 1` used to accept it and fail later).
    func testAPairThatCannotFitItsRowsIsRefusedAtPlanning() {
        XCTAssertThrowsError(try RewardBatches.plan(lengths: [(20, 20)], records: [7], rows: 1, seqLen: 32, accumulation: 1, epochs: 1, seed: 1)) {
            XCTAssertTrue("\($0)".contains("comparison 7") && "\($0)".contains("--rows 2"), "\($0)")
        }
        XCTAssertNoThrow(try RewardBatches.plan(lengths: [(20, 20)], records: [7], rows: 2, seqLen: 32, accumulation: 1, epochs: 1, seed: 1))
    }
}
