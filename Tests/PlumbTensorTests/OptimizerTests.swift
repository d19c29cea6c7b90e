import Foundation
import XCTest
@testable import PlumbTensor

final class OptimizerTests: XCTestCase {
    /// One scalar with decay, one without, gradients 0.5, -0.25, 1.0; lr 0.1, b1 0.9, b2 0.999, eps 1e-8, wd 0.1.
    /// Step 1 by hand: p = 1 * (1 - 0.01) = 0.99; m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25;
    ///   p = 0.99 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.890000002.
    /// Step 2: p = 0.89 * 0.99 = 0.8811; m = 0.02, v = 0.00031225; m^ = 0.02 / 0.19 = 0.105263,
    ///   v^ = 0.00031225 / 0.001999 = 0.156203, sqrt 0.395225; p = 0.8811 - 0.1 * 0.105263 / 0.395225 = 0.854466.
    /// Step 3 with the same formula on a calculator: 0.780110. Without decay: 0.9, 0.873366, 0.807555.
    func testAdamWMatchesHandComputedSteps() throws {
        let params = try ParameterSet([ParameterSpec("decayed", [1]), ParameterSpec("plain", [1], weightDecay: false),
                                       ParameterSpec("frozen", [1], trainable: false)])
        for name in params.names { try params.value(name).fill(1) }
        let adam = AdamW(parameters: params, config: AdamWConfig(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1))
        let expected: [(Float, Float)] = [(0.890000002, 0.900000002), (0.854466299, 0.873366299), (0.780110477, 0.807555140)]
        for (step, g) in [Float(0.5), -0.25, 1.0].enumerated() {
            for name in params.names { try params.gradient(name).fill(g) }
            try adam.update(params, learningRate: 0.1)
            XCTAssertEqual(try params.value("decayed").pointer[0], expected[step].0, accuracy: 1e-6, "step \(step + 1)")
            XCTAssertEqual(try params.value("plain").pointer[0], expected[step].1, accuracy: 1e-6, "step \(step + 1)")
            XCTAssertEqual(try params.value("frozen").pointer[0], 1, "frozen parameters do not move")
        }
        XCTAssertEqual(adam.step, 3)
    }

    /// A parameter long enough for the 8-lane body, the thread split and a tail (100,003 scalars),
    /// three steps against PyTorch's formula evaluated in Double, element by element.
    func testAdamWVectorisedMatchesDoubleReference() throws {
        let count = 100_003
        let params = try ParameterSet([ParameterSpec("w", [count])])
        var rng = SeededRNG(seed: 31)
        let w = try params.value("w"), g = try params.gradient("w")
        rng.fillNormal(w, std: 1)
        let config = AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        let adam = AdamW(parameters: params, config: config)
        var p = w.array.map(Double.init), m = [Double](repeating: 0, count: count), v = m
        let lr = 0.01
        for step in 1...3 {
            rng.fillNormal(g, std: 0.1)
            try adam.update(params, learningRate: Float(lr))
            let c1 = 1 - pow(0.9, Double(step)), c2 = (1 - pow(0.95, Double(step))).squareRoot()
            for i in 0..<count {
                let gi = Double(g.pointer[i])
                m[i] = 0.9 * m[i] + 0.1 * gi; v[i] = 0.95 * v[i] + 0.05 * gi * gi
                p[i] = p[i] * (1 - lr * 0.1) - lr / c1 * m[i] / (v[i].squareRoot() / c2 + 1e-8)
            }
        }
        // Float rounding of p (|p| ~ 1) and of each update (~1e-2) stays below 1e-6; a wrong term (the
        // decay alone moves p by 1e-3 |p| a step) would not.
        var worst = 0.0
        for i in 0..<count { worst = max(worst, abs(Double(w.pointer[i]) - p[i])) }
        XCTAssertLessThan(worst, 1e-6, "worst absolute error against the Double reference")
    }

    /// peak 1e-3, warm-up 2, total 10, floor 10%: warm-up 5e-4, 1e-3; then p = (s - 2) / 8.
    func testSchedulesMatchHandComputedValues() throws {
        let cosine = try LearningRateSchedule(kind: .cosine, peak: 1e-3, warmupSteps: 2, totalSteps: 10, minRatio: 0.1)
        let linear = try LearningRateSchedule(kind: .linear, peak: 1e-3, warmupSteps: 2, totalSteps: 10, minRatio: 0.1)
        let constant = try LearningRateSchedule(kind: .constant, peak: 1e-3, warmupSteps: 2, totalSteps: 10)
        let cases: [(LearningRateSchedule, Int, Float)] = [
            (cosine, 0, 5e-4), (cosine, 1, 1e-3), (cosine, 2, 1e-3),
            (cosine, 4, 8.681981e-4),   // 1e-4 + 9e-4 * (1 + cos(pi / 4)) / 2
            (cosine, 6, 5.5e-4),        // 1e-4 + 9e-4 * (1 + cos(pi / 2)) / 2
            (cosine, 10, 1e-4), (cosine, 50, 1e-4),
            (linear, 4, 7.75e-4),       // 1e-3 - 9e-4 * 0.25
            (linear, 6, 5.5e-4), (linear, 10, 1e-4),
            (constant, 0, 5e-4), (constant, 5, 1e-3), (constant, 99, 1e-3),
        ]
        for (schedule, step, lr) in cases {
            XCTAssertEqual(schedule.learningRate(at: step), lr, accuracy: 1e-9, "\(schedule.kind) step \(step)")
        }
        XCTAssertThrowsError(try LearningRateSchedule(kind: .cosine, peak: 1, totalSteps: 10, minRatio: 2))
    }

    func testClippingUsesTrainableGradientsAndReturnsTheNorm() throws {
        let params = try ParameterSet([ParameterSpec("a", [2]), ParameterSpec("b", [1], trainable: false)])
        try params.gradient("a").copy(from: try Tensor(shape: [2], values: [3, 4]))
        try params.gradient("b").fill(100)
        XCTAssertEqual(GradientClipping.globalNorm(params), 5, accuracy: 1e-6)
        XCTAssertEqual(GradientClipping.clip(params, maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(try params.gradient("a").array[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(try params.gradient("a").array[1], 0.8, accuracy: 1e-6)
        XCTAssertEqual(GradientClipping.clip(params, maxNorm: 10), 1, accuracy: 1e-5, "below the threshold: unchanged")
        XCTAssertEqual(try params.gradient("a").array[1], 0.8, accuracy: 1e-6)
    }

    /// A parameter of many blocks (parallel partial sums): the norm equals a serial Double sum, and
    /// clipping scales every entry by maxNorm / (norm + 1e-6).
    func testClippingManyBlocksMatchesSerialSum() throws {
        let count = 5 * GradientClipping.blockSize + 123
        let params = try ParameterSet([ParameterSpec("w", [count]), ParameterSpec("g", [7])])
        var rng = SeededRNG(seed: 9)
        let w = try params.gradient("w"), g = try params.gradient("g")
        rng.fillNormal(w, std: 0.01); rng.fillNormal(g, std: 1)
        let before = w.array + g.array
        let expected = before.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(Double(GradientClipping.globalNorm(params)), expected, accuracy: 1e-6 * expected)
        XCTAssertEqual(Double(GradientClipping.clip(params, maxNorm: 0.5)), expected, accuracy: 1e-6 * expected)
        let factor = Float(0.5 / (expected + 1e-6))
        let after = w.array + g.array
        for i in stride(from: 0, to: before.count, by: 997) { XCTAssertEqual(after[i], before[i] * factor, accuracy: 1e-6 * abs(before[i]) + 1e-12) }
        XCTAssertEqual(Double(GradientClipping.globalNorm(params)), 0.5, accuracy: 1e-5)
    }

    /// Clipping folded into AdamW (one read of the gradients for the norm, one in the update) gives the
    /// same bits as clip-then-step, in the parameters and both moments: three steps with the norm above
    /// the threshold (factor < 1), below it (factor 1) and far above, on entries with 8-lane bodies and
    /// tails, one without decay and a frozen one.
    func testClippingFoldedIntoAdamWEqualsClipThenStep() throws {
        let specs = [ParameterSpec("w", [1003, 3]), ParameterSpec("norm", [13], weightDecay: false),
                     ParameterSpec("tail", [5]), ParameterSpec("frozen", [9], trainable: false)]
        let clipped = try ParameterSet(specs), folded = try ParameterSet(specs)
        func whole(_ s: TensorStorage) throws -> Tensor { try Tensor(storage: s, offset: 0, shape: [s.count]) }
        var rng = SeededRNG(seed: 31)
        rng.fillNormal(try whole(clipped.values), std: 0.1)
        try whole(folded.values).copy(from: try whole(clipped.values))
        let start = Array(UnsafeBufferPointer(start: clipped.values.base, count: clipped.totalCount))
        let adamClipped = AdamW(parameters: clipped), adamFolded = AdamW(parameters: folded)
        func bits(_ s: TensorStorage) -> [Float] { Array(UnsafeBufferPointer(start: s.base, count: s.count)) }
        for (step, std) in [Float(1), 1e-3, 30].enumerated() {
            rng.fillNormal(try whole(clipped.gradients), std: std)
            try whole(folded.gradients).copy(from: try whole(clipped.gradients))
            let norm = GradientClipping.clip(clipped, maxNorm: 1)
            try adamClipped.update(clipped, learningRate: 1e-2)
            let foldedNorm = try adamFolded.update(folded, learningRate: 1e-2, clippingTo: 1)
            XCTAssertEqual(norm, foldedNorm, "step \(step): the norm before clipping")
            XCTAssertEqual(norm > 1, step != 1, "step \(step): clipped or not as intended (norm \(norm))")
            XCTAssertEqual(bits(clipped.values), bits(folded.values), "step \(step): parameters")
            XCTAssertEqual(bits(adamClipped.m), bits(adamFolded.m), "step \(step): first moments")
            XCTAssertEqual(bits(adamClipped.v), bits(adamFolded.v), "step \(step): second moments")
        }
        let moved = (0..<start.count).filter { start[$0] != folded.values.base[$0] }.count
        XCTAssertEqual(moved, folded.totalCount - 9, "every trainable scalar moved, the frozen 9 did not")
    }

    /// Trains the tiny network for `steps` AdamW steps on batches drawn from `rng`.
    func train(_ net: TinyNetwork, _ adam: AdamW, _ rng: inout SeededRNG, steps: Int) throws {
        let schedule = try LearningRateSchedule(kind: .cosine, peak: 1e-2, warmupSteps: 2, totalSteps: 10, minRatio: 0.1)
        for _ in 0..<steps {
            let examples = try (0..<3).map { _ in try randomExample(length: 4 + Int(rng.next() % 3), promptLength: 1, &rng) }
            net.parameters.zeroGrad()
            try net.trainStep(try BatchLayout.packed(examples, batchSize: 2, seqLen: 12, padToken: 0))
            GradientClipping.clip(net.parameters, maxNorm: 1)
            try adam.update(net.parameters, learningRate: schedule.learningRate(at: adam.step))
        }
    }

    func testSameSeedGivesBitIdenticalParameters() throws {
        func run(seed: UInt64) throws -> [Float] {
            let net = try TinyNetwork(seed: seed)
            var rng = SeededRNG(seed: seed)
            try train(net, AdamW(parameters: net.parameters), &rng, steps: 5)
            return Array(UnsafeBufferPointer(start: net.parameters.values.base, count: net.parameters.totalCount))
        }
        let a = try run(seed: 60), b = try run(seed: 60), c = try run(seed: 61)
        XCTAssertEqual(a, b, "same seed, same bits")
        XCTAssertNotEqual(a, c)
        let start = try TinyNetwork(seed: 60)
        let moved = (0..<a.count).filter { a[$0] != start.parameters.values.base[$0] }.count
        XCTAssertEqual(moved, a.count, "every parameter changed after 5 steps")
    }

    func testSaveAndRestoreResumesExactly() throws {
        // Uninterrupted: 6 steps.
        let straight = try TinyNetwork(seed: 62)
        var rngStraight = SeededRNG(seed: 7)
        let adamStraight = AdamW(parameters: straight.parameters)
        try train(straight, adamStraight, &rngStraight, steps: 6)

        // Interrupted after 3: save weights, optimiser and RNG; restore into fresh objects; 3 more.
        let first = try TinyNetwork(seed: 62)
        var rng = SeededRNG(seed: 7)
        let adam = AdamW(parameters: first.parameters)
        try train(first, adam, &rng, steps: 3)
        let (header, tensors) = try adam.saveState(parameters: first.parameters, rng: rng)
        let headerJSON = try JSONEncoder().encode(header)
        var saved: [String: Tensor] = [:]
        for (name, t) in tensors { saved[name] = t.copy() }

        let resumed = try TinyNetwork(seed: 999)
        try resumed.parameters.copyValues(from: first.parameters)
        let adamResumed = AdamW(parameters: resumed.parameters)
        let decoded = try JSONDecoder().decode(OptimizerStateHeader.self, from: headerJSON)
        var rngResumed = try XCTUnwrap(try adamResumed.restoreState(header: decoded, tensors: saved, parameters: resumed.parameters))
        XCTAssertEqual(adamResumed.step, 3)
        try train(resumed, adamResumed, &rngResumed, steps: 3)

        let a = Array(UnsafeBufferPointer(start: straight.parameters.values.base, count: straight.parameters.totalCount))
        let b = Array(UnsafeBufferPointer(start: resumed.parameters.values.base, count: resumed.parameters.totalCount))
        XCTAssertEqual(a, b, "resumed run is bit-identical to the uninterrupted one")
        XCTAssertEqual(rngResumed, rngStraight)

        saved.removeValue(forKey: AdamW.momentNames("q_proj.weight").v)
        XCTAssertThrowsError(try adamResumed.restoreState(header: decoded, tensors: saved, parameters: resumed.parameters)) {
            XCTAssertTrue("\($0)".contains("q_proj.weight.adam_v"), "\($0)")
        }
    }
}
