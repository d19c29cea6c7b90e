import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

/// A language-modelling example: targets are the next tokens, the last one ignored.
func lmExample(_ tokens: [Int32]) throws -> BatchLayout.Example {
    try BatchLayout.Example(tokens: tokens, targets: Array(tokens.dropFirst()) + [CrossEntropy.ignoreIndex])
}

final class ModelTrainingTests: XCTestCase {
    let config = LlamaPreset.tiny.config   // dim 16, hidden 40, 2 layers, 4 heads, 2 kv heads, vocab 32

    func packedBatch() throws -> BatchLayout {
        try BatchLayout.packed([lmExample([1, 5, 9, 3, 7]), lmExample([2, 4, 4, 8]), lmExample([3, 2, 30, 31, 6, 11, 12])],
                               batchSize: 2, seqLen: 10, padToken: 0)
    }

    func testShapesOnTiny() throws {
        let model = try LlamaModel(config: config, heads: [.lm, .reward, .value], seed: 1)
        XCTAssertEqual(model.parameters.totalCount, 32 * 16 + 2 * (16 + 16 * 16 + 8 * 16 * 2 + 16 * 16 + 16 + 3 * 40 * 16) + 16 + 16 + 16)
        let batch = try packedBatch()
        let acts = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        try model.forward(batch, acts)
        XCTAssertEqual(acts.logits!.shape, [20, 32])
        XCTAssertEqual(acts.finalHidden.shape, [20, 16])
        XCTAssertTrue(acts.logits!.array.allSatisfy(\.isFinite))
        let rewards = try model.rewardForward(acts, rows: model.lastTokenRows(batch))
        XCTAssertEqual(rewards.count, 3)
        XCTAssertEqual(try model.valueForward(acts).shape, [20])
        let lp = try model.tokenLogProbs(acts)
        let seq = model.sequenceLogProbs(lp, layout: batch)
        XCTAssertEqual(seq.count, 3)
        // With near-uniform initial logits each log-prob is about -log 32.
        XCTAssertEqual(seq[0] / 4, -log(32), accuracy: 0.2)
    }

    /// Packing must not leak across examples: an example's logits are the same packed or alone.
    func testPackedEqualsUnpacked() throws {
        let model = try LlamaModel(config: config, heads: .lm, seed: 2)
        let packed = try packedBatch()
        let actsP = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        try model.forward(packed, actsP)
        let alone = try BatchLayout.padded([lmExample([2, 4, 4, 8])], batchSize: 1, seqLen: 10, padToken: 0)
        let actsA = try LlamaActivations(config: config, batchSize: 1, seqLen: 10)
        try model.forward(alone, actsA)
        let span = packed.spans[1]
        for t in 0..<span.length {
            for v in 0..<32 {
                XCTAssertEqual(actsP.logits!.pointer[(packed.flatRange(of: span).lowerBound + t) * 32 + v], actsA.logits!.pointer[t * 32 + v], accuracy: 1e-5)
            }
        }
    }

    func testOneStepChangesTrainableAndNotFrozen() throws {
        let untied = config.with { $0.tieWordEmbeddings = false }
        let model = try LlamaModel(config: untied, heads: [.lm, .reward, .value], seed: 3)
        model.setTrainable(false) { $0.hasPrefix("model.layers.0.") || $0 == LlamaTensorNames.embedding }
        let before = try model.tensors().mapValues { $0.copy() }
        let batch = try packedBatch()
        let acts = try LlamaActivations(config: untied, batchSize: 2, seqLen: 10)
        try model.forward(batch, acts)
        try model.languageModelLoss(acts)
        let rows = model.lastTokenRows(batch)
        try model.rewardBackward(acts, rows: rows, dRewards: [1, -1, 0.5])
        try model.valueBackward(acts, dValues: Tensor(shape: [20], repeating: 0.1))
        try model.backward(acts)
        let optimizer = AdamW(parameters: model.parameters)
        try optimizer.update(model.parameters, learningRate: 1e-3)
        var frozen = 0, trained = 0
        for e in model.parameters.entries {
            let now = try model.parameters.value(of: e)
            if e.trainable {
                trained += 1
                for i in 0..<e.count { XCTAssertNotEqual(now.pointer[i], before[e.name]!.pointer[i], "\(e.name)[\(i)] did not change") }
            } else {
                frozen += 1
                XCTAssertEqual(bits(now), bits(before[e.name]!), "\(e.name) is frozen but changed")
            }
        }
        XCTAssertEqual(frozen, 10)
        XCTAssertEqual(trained, model.parameters.entries.count - 10)
    }

    /// 60 AdamW steps at lr 1e-2 on one fixed packed batch drive the mean loss from ~log 32 = 3.47 below 0.1.
    func testOverfitsOneBatch() throws {
        let model = try LlamaModel(config: config, heads: .lm, seed: 4)
        let batch = try packedBatch()
        let acts = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        let optimizer = AdamW(parameters: model.parameters, config: AdamWConfig(weightDecay: 0))
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            model.parameters.zeroGrad()
            try model.forward(batch, acts)
            last = try model.languageModelLoss(acts).loss
            if step == 0 { first = last }
            try model.backward(acts)
            try optimizer.update(model.parameters, learningRate: 1e-2)
        }
        XCTAssertEqual(first, log(32), accuracy: 0.1)
        XCTAssertLessThan(last, 0.1)
    }

    /// Central finite differences (in Float, h = 1e-2 on weights of scale ~0.3) of a loss mixing every head
    /// against the analytic gradient, at a few coordinates of every kind of tensor.
    func testGradientMatchesFiniteDifferences() throws {
        let untied = config.with { $0.tieWordEmbeddings = false }
        let model = try LlamaModel(config: untied, heads: [.lm, .reward, .value])
        try model.load(randomTensors(untied, heads: [.lm, .reward, .value], seed: 5).mapValues { t in
            let s = t.copy(); for i in 0..<s.count { s.pointer[i] *= 0.6 }; return s
        }, source: "random")
        for e in model.parameters.entries where e.shape.count == 1 {   // norm gains near 1
            let t = try model.parameters.value(of: e); for i in 0..<e.count { t.pointer[i] += 1 }
        }
        let batch = try packedBatch()
        let acts = try LlamaActivations(config: untied, batchSize: 2, seqLen: 10)
        let rows = model.lastTokenRows(batch)
        let dValues = try Tensor(shape: [20], values: (0..<20).map { Float($0 % 5) * 0.1 - 0.2 })
        func loss() throws -> Double {
            try model.forward(batch, acts)
            let lm = try model.languageModelLoss(acts, backward: false).loss
            let r = try model.rewardForward(acts, rows: rows)
            let v = try model.valueForward(acts)
            let valueTerm = (0..<20).reduce(Float(0)) { $0 + dValues.pointer[$1] * v.pointer[$1] }
            return Double(lm + r[0] - 0.5 * r[2] + valueTerm)
        }
        model.parameters.zeroGrad()
        try model.forward(batch, acts)
        try model.languageModelLoss(acts)
        try model.rewardBackward(acts, rows: rows, dRewards: [1, 0, -0.5])
        try model.valueBackward(acts, dValues: dValues)
        try model.backward(acts)
        var rng = TestRandom(6)
        var worst: Double = 0
        for e in model.parameters.entries {
            let value = try model.parameters.value(of: e), grad = try model.parameters.gradient(of: e)
            for _ in 0..<2 {
                var i = Int(rng.next() % UInt64(e.count))
                if e.name == LlamaTensorNames.embedding { i = 4 * 16 + Int(rng.next() % 16) }   // a row in the batch
                let saved = value.pointer[i], h: Float = 1e-2
                value.pointer[i] = saved + h; let up = try loss()
                value.pointer[i] = saved - h; let down = try loss()
                value.pointer[i] = saved
                let numeric = (up - down) / Double(2 * h), analytic = Double(grad.pointer[i])
                let error = abs(numeric - analytic) / max(1e-2, abs(numeric) + abs(analytic))
                worst = max(worst, error)
                XCTAssertLessThan(error, 2e-2, "\(e.name)[\(i)]: numeric \(numeric), analytic \(analytic)")
            }
        }
        print("finite-difference check: worst relative error \(worst)")
    }
}

final class SequenceLogProbGradientTests: XCTestCase {
    /// DPO's path: L = sum_i c_i log pi(y_i | x_i) (span sums of token log-probs, prompt tokens masked);
    /// its analytic gradient against central finite differences at a few coordinates of every tensor.
    func testSequenceLogProbGradient() throws {
        let config = LlamaPreset.tiny.config
        let model = try LlamaModel(config: config, heads: .lm)
        try model.load(randomTensors(config, heads: .lm, seed: 41).mapValues { t in
            let s = t.copy(); for i in 0..<s.count { s.pointer[i] *= 0.6 }; return s
        }, source: "random")
        for e in model.parameters.entries where e.shape.count == 1 {
            let t = try model.parameters.value(of: e); for i in 0..<e.count { t.pointer[i] += 1 }
        }
        let masked = try BatchLayout.Example(tokens: [1, 5, 9, 3, 7], targets: [-1, -1, 3, 7, -1])   // response "3 7"
        let batch = try BatchLayout.packed([masked, try lmExample([2, 4, 4, 8])], batchSize: 1, seqLen: 10, padToken: 0)
        let acts = try LlamaActivations(config: config, batchSize: 1, seqLen: 10)
        let weightsPerSequence: [Float] = [1.5, -0.7]
        func loss() throws -> Double {
            try model.forward(batch, acts)
            let seq = model.sequenceLogProbs(try model.tokenLogProbs(acts), layout: batch)
            return Double(zip(seq, weightsPerSequence).reduce(Float(0)) { $0 + $1.0 * $1.1 })
        }
        model.parameters.zeroGrad()
        _ = try loss()
        try model.tokenLogProbsBackward(acts, dLogProbs: try model.sequenceLogProbsGradient(weightsPerSequence, layout: batch))
        try model.backward(acts)
        var rng = TestRandom(42)
        for e in model.parameters.entries {
            let value = try model.parameters.value(of: e), grad = try model.parameters.gradient(of: e)
            var i = Int(rng.next() % UInt64(e.count))
            if e.name == LlamaTensorNames.embedding { i = 3 * 16 + Int(rng.next() % 16) }   // token 3: in the batch
            let saved = value.pointer[i], h: Float = 1e-2
            value.pointer[i] = saved + h; let up = try loss()
            value.pointer[i] = saved - h; let down = try loss()
            value.pointer[i] = saved
            let numeric = (up - down) / Double(2 * h), analytic = Double(grad.pointer[i])
            XCTAssertLessThan(abs(numeric - analytic) / max(1e-2, abs(numeric) + abs(analytic)), 2e-2,
                              "\(e.name)[\(i)]: numeric \(numeric), analytic \(analytic)")
        }
    }
}

final class FusedLossTests: XCTestCase {
    /// The in-place fused loss equals the engine's CrossEntropy.meanLoss (loss and gradient), with
    /// ignored rows, a divisor and a scale, on logits spread over [-20, 20] and a vocabulary not a multiple of 8.
    func testMatchesEngineCrossEntropy() throws {
        var rng = TestRandom(21)
        let logits = rng.tensor([6, 1003], scale: 20)
        let targets: [Int32] = [5, -1, 1002, 0, 77, -1]
        let reference = Tensor(zeros: [6, 1003])
        let expected = try CrossEntropy.meanLoss(logits: logits, targets: targets, dLogits: reference, gradScale: 0.5, divisor: 7)
        let inPlace = logits.copy()
        let got = try FusedLMLoss.lossAndGradientInPlace(logits: inPlace, targets: targets, gradScale: 0.5, divisor: 7)
        XCTAssertEqual(got.tokens, expected.tokens)
        XCTAssertEqual(got.loss, expected.loss, accuracy: 1e-5 * abs(expected.loss))
        XCTAssertLessThan(try inPlace.maxAbsDifference(reference), 1e-7)
    }
}
