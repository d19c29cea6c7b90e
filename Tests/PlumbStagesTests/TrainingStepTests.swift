// The shared training step: micro-batches weighted by their loss units (accumulation 2 x rows 4 is
// the objective of rows 8), and the non-finite guard (a NaN step changes no weight, a run of them
// stops the stage, a checkpoint never holds a non-finite weight).
import Foundation
import PlumbModel
@testable import PlumbStages
import PlumbTensor
import XCTest

final class TrainingStepTests: XCTestCase {
    let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 32, maxSeqLen: 32)

    /// SFT-like examples: a prompt with no targets, then a response of very different lengths, so
    /// micro-batches carry very different numbers of target tokens.
    static func examples(_ count: Int, seed: UInt64) throws -> [BatchLayout.Example] {
        var rng = SeededRNG(seed: seed)
        return try (0..<count).map { i in
            let promptLength = Int.random(in: 3...8, using: &rng)
            let responseLength = i % 4 == 0 ? 18 : Int.random(in: 1...3, using: &rng)
            let tokens = (0..<(promptLength + responseLength)).map { _ in Int32.random(in: 3..<32, using: &rng) }
            var targets = [Int32](repeating: CrossEntropy.ignoreIndex, count: tokens.count)
            for t in (promptLength - 1)..<(tokens.count - 1) { targets[t] = tokens[t + 1] }
            return try BatchLayout.Example(tokens: tokens, targets: targets)
        }
    }

    func gradients(_ model: LlamaModel) -> [Float] {
        Array(UnsafeBufferPointer(start: model.parameters.gradients.base, count: model.parameters.gradients.count))
    }

    func loop(_ model: LlamaModel, steps: [[[Int]]], settings: LoopSettings = LoopSettings(checkpointEvery: 0, evaluateEvery: 0)) throws -> TrainingLoop {
        try TrainingLoop(model: model, plan: BatchPlan(steps: steps, epochs: 1), settings: settings,
                         checkpointRoot: FileManager.default.temporaryDirectory.appendingPathComponent("step-tests-\(getpid())-\(UUID())"))
    }

    /// Language model: one micro-batch of 8 rows against two of 4 rows, padded so the split is exact.
    func testTokenWeightedAccumulationEqualsOneLargeMicroBatch() throws {
        let model = try LlamaModel(config: config, heads: .lm, seed: 3)
        let data = try Self.examples(8, seed: 9)
        func objective(rows: Int) throws -> LanguageModelObjective {
            try LanguageModelObjective(model: model, train: data, validation: [], rows: rows, seqLen: 32, layout: .padded, padToken: 0)
        }
        let whole = try loop(model, steps: [[Array(0..<8)]]).accumulateGradients(0, objective: try objective(rows: 8))
        let reference = gradients(model)
        let split = try loop(model, steps: [[Array(0..<4), Array(4..<8)]]).accumulateGradients(0, objective: try objective(rows: 4))
        let accumulated = gradients(model)
        XCTAssertEqual(whole.loss, split.loss, accuracy: 1e-5 * abs(whole.loss))
        let scale = reference.map(abs).max()!
        var worst: Float = 0
        for (a, b) in zip(reference, accumulated) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThan(worst, 1e-5 * scale, "accumulated gradient against one micro-batch (largest |g| \(scale))")

        // The same two halves averaged with equal weights (the old rule) are measurably different,
        // so the comparison above can fail.
        let units = [Array(0..<4), Array(4..<8)].map { try! objective(rows: 4).lossUnits(indices: $0) }
        XCTAssertNotEqual(units[0], units[1], "the halves carry different numbers of target tokens")
        XCTAssertEqual(TrainingLoop.microBatchScales(units: units), [Float(units[0]), Float(units[1])].map { $0 / Float(units[0] + units[1]) })
    }

    /// Reward model: pairs are the loss units; three pairs then one equal four pairs at once.
    func testPairWeightedAccumulationEqualsOneLargeMicroBatch() throws {
        let model = try LlamaModel(config: config, heads: .reward, seed: 5)
        RewardTrainingTests.initialiseHead(model)
        let pairs = RewardTrainingTests.pairs(4, seed: 8)
        let objective = try RewardObjective(model: model, train: pairs, validation: [], rows: 8, seqLen: 32, padToken: 2, centring: 0)
        let whole = try loop(model, steps: [[[0, 1, 2, 3]]]).accumulateGradients(0, objective: objective)
        let reference = gradients(model)
        let split = try loop(model, steps: [[[0, 1, 2], [3]]]).accumulateGradients(0, objective: objective)
        let accumulated = gradients(model)
        XCTAssertEqual(whole.loss, split.loss, accuracy: 1e-5)
        let scale = reference.map(abs).max()!
        var worst: Float = 0
        for (a, b) in zip(reference, accumulated) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThan(worst, 1e-5 * scale)
    }

    /// Wraps an objective and poisons, on the listed micro-batch calls, the gradient (a NaN; even
    /// calls) or the loss (an infinity; odd calls).
    final class Poisoned: TrainingObjective {
        let inner: TrainingObjective
        let model: LlamaModel
        let poisonCalls: Set<Int>
        var calls = 0
        init(_ inner: TrainingObjective, model: LlamaModel, poisonCalls: Set<Int>) {
            self.inner = inner; self.model = model; self.poisonCalls = poisonCalls
        }
        func lossUnits(indices: [Int]) -> Int { inner.lossUnits(indices: indices) }
        func evaluate() throws -> [String: Double] { [:] }
        func accumulate(indices: [Int], scale: Float) throws -> MicroBatchResult {
            var result = try inner.accumulate(indices: indices, scale: scale)
            defer { calls += 1 }
            if poisonCalls.contains(calls) {
                if calls % 2 == 0 { model.parameters.gradients.base[17] = .nan } else { result.loss = .infinity }
            }
            return result
        }
    }

    func weights(_ model: LlamaModel) -> [Float] {
        Array(UnsafeBufferPointer(start: model.parameters.values.base, count: model.parameters.values.count))
    }

    func testNonFiniteStepChangesNoWeightAndIsCounted() throws {
        let data = try Self.examples(8, seed: 2)
        let steps = [[[0, 1]], [[2, 3]], [[4, 5]], [[6, 7]]]
        // Poisoned at step 2 (gradient) and step 3 (loss): only steps 0 and 1 update.
        let model = try LlamaModel(config: config, heads: .lm, seed: 4)
        let lm = try LanguageModelObjective(model: model, train: data, validation: [], rows: 2, seqLen: 32, layout: .padded, padToken: 0)
        var reports: [StepReport] = []
        let summary = try loop(model, steps: steps).run(Poisoned(lm, model: model, poisonCalls: [2, 3])) {
            if case let .step(r) = $0 { reports.append(r) }
        }
        XCTAssertEqual(summary.nonFiniteSteps, 2)
        XCTAssertEqual(reports.map(\.skipped), [false, false, true, true])
        XCTAssertNil(model.parameters.firstNonFiniteValue())

        // The same run with the poisoned steps left out of the plan ends with the same weights:
        // a skipped step changed neither the weights nor AdamW's moments or step count. (The
        // schedule is constant so that the learning rate does not depend on the step index.)
        let constant = LoopSettings(optimization: OptimizationSettings(schedule: .constant, warmupRatio: 0), checkpointEvery: 0, evaluateEvery: 0)
        let a = try LlamaModel(config: config, heads: .lm, seed: 4)
        let lmA = try LanguageModelObjective(model: a, train: data, validation: [], rows: 2, seqLen: 32, layout: .padded, padToken: 0)
        _ = try loop(a, steps: steps, settings: constant).run(Poisoned(lmA, model: a, poisonCalls: [2, 3]))
        let b = try LlamaModel(config: config, heads: .lm, seed: 4)
        let lmB = try LanguageModelObjective(model: b, train: data, validation: [], rows: 2, seqLen: 32, layout: .padded, padToken: 0)
        _ = try loop(b, steps: [steps[0], steps[1]], settings: constant).run(lmB)
        XCTAssertEqual(weights(a), weights(b))
        XCTAssertNotEqual(weights(a), weights(try LlamaModel(config: config, heads: .lm, seed: 4)), "the finite steps did train")
    }

    func testARunOfNonFiniteStepsStopsTheStage() throws {
        let data = try Self.examples(8, seed: 2)
        let model = try LlamaModel(config: config, heads: .lm, seed: 4)
        let lm = try LanguageModelObjective(model: model, train: data, validation: [], rows: 2, seqLen: 32, layout: .padded, padToken: 0)
        let settings = LoopSettings(checkpointEvery: 0, evaluateEvery: 0, maxConsecutiveNonFinite: 3)
        let before = weights(model)
        XCTAssertThrowsError(try loop(model, steps: [[[0]], [[1]], [[2]], [[3]], [[4]]], settings: settings)
            .run(Poisoned(lm, model: model, poisonCalls: [0, 1, 2, 3, 4]))) { error in
            XCTAssertTrue("\(error)".contains("step 3 of 5"), "\(error)")
            XCTAssertTrue("\(error)".contains("non-finite"), "\(error)")
        }
        XCTAssertEqual(weights(model), before)
    }

    func testCheckpointRefusesNonFiniteWeights() throws {
        let model = try LlamaModel(config: config, heads: .lm, seed: 4)
        let entry = model.parameters.entries[1]
        model.parameters.values.base[entry.offset + 5] = .nan
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nonfinite-ckpt-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let optimizer = AdamW(parameters: model.parameters, config: AdamWConfig())
        let state = TrainerState(step: 1, totalSteps: 1, optimizer: try optimizer.saveState(parameters: model.parameters, rng: nil).header,
                                 tokens: 0, initialEvaluation: [:])
        XCTAssertThrowsError(try TrainingCheckpoint.save(model: model, optimizer: optimizer, state: state, root: root, keep: 2)) { error in
            XCTAssertTrue("\(error)".contains(entry.name), "\(error)")
        }
        XCTAssertEqual(try TrainingCheckpoint.list(root), [])
    }
}
