import XCTest
@testable import PlumbTensor

final class NormActivationTests: XCTestCase {
    func testRMSNormMatchesDoubleFormulaAndFiniteDifferences() throws {
        var rng = SeededRNG(seed: 20)
        let x = randomTensor([3, 4, 16], &rng), w = randomTensor([16], &rng), r = randomTensor([3, 4, 16], &rng)
        let y = Tensor(zeros: x.shape), rstd = Tensor(zeros: [12]), eps: Float = 1e-5
        try RMSNorm.forward(x: x, weight: w, eps: eps, out: y, rstd: rstd)
        for n in 0..<12 {   // y = x / sqrt(mean(x^2) + eps) * g, in Double
            var ss = 0.0
            for i in 0..<16 { ss += pow(Double(x.pointer[n * 16 + i]), 2) }
            let inv = 1 / (ss / 16 + Double(eps)).squareRoot()
            for i in 0..<16 {
                XCTAssertEqual(Double(y.pointer[n * 16 + i]), Double(x.pointer[n * 16 + i]) * inv * Double(w.pointer[i]), accuracy: 1e-5)
            }
        }
        let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
        try RMSNorm.backward(dOut: r, x: x, weight: w, rstd: rstd, dx: dx, dWeight: dw)
        let loss = { () throws -> Double in try RMSNorm.forward(x: x, weight: w, eps: eps, out: y, rstd: rstd); return weightedSum(y, r) }
        try assertGradientMatches("rmsnorm dx", input: x, analytic: dx, loss: loss)
        try assertGradientMatches("rmsnorm dg", input: w, analytic: dw, loss: loss)
    }

    /// Enough rows for the weight gradient to be split by columns across threads: it equals the
    /// Double sum dg_i = sum_n dy_ni x_ni r_n, and adds to what the gradient held.
    func testRMSNormWeightGradientOverManyRowsMatchesDoubleSum() throws {
        let rows = 600, width = 288
        var rng = SeededRNG(seed: 21)
        let x = randomTensor([rows, width], &rng), w = randomTensor([width], &rng), dy = randomTensor([rows, width], &rng)
        let y = Tensor(zeros: x.shape), rstd = Tensor(zeros: [rows])
        try RMSNorm.forward(x: x, weight: w, eps: 1e-5, out: y, rstd: rstd)
        let dw = Tensor(shape: [width], repeating: 0.5)
        try RMSNorm.backward(dOut: dy, x: x, weight: w, rstd: rstd, dx: Tensor(zeros: x.shape), dWeight: dw)
        for i in 0..<width {
            var expected = 0.5
            for n in 0..<rows { expected += Double(dy.pointer[n * width + i]) * Double(x.pointer[n * width + i]) * Double(rstd.pointer[n]) }
            XCTAssertEqual(Double(dw.pointer[i]), expected, accuracy: 1e-3 + 1e-4 * abs(expected), "column \(i)")
        }
    }

    func testRMSNormFrozenWeightAndBadShapes() throws {
        let x = Tensor(shape: [2, 4], repeating: 1), w = Tensor(shape: [4], repeating: 1)
        let rstd = Tensor(zeros: [2]), y = Tensor(zeros: [2, 4])
        try RMSNorm.forward(x: x, weight: w, eps: 0, out: y, rstd: rstd)
        XCTAssertEqual(y.array, [Float](repeating: 1, count: 8))
        try RMSNorm.backward(dOut: y, x: x, weight: w, rstd: rstd, dx: Tensor(zeros: [2, 4]), dWeight: nil)
        XCTAssertThrowsError(try RMSNorm.forward(x: x, weight: Tensor(zeros: [3]), eps: 0, out: y, rstd: rstd))
        XCTAssertThrowsError(try RMSNorm.forward(x: x, weight: w, eps: 0, out: y, rstd: Tensor(zeros: [3])))
    }

    /// Enough elements for SwiGLU to split across threads, plus a tail of 5: forward and backward
    /// (accumulating onto 0.5) against the formulas in Double, element by element.
    func testSwiGLUOverManyElementsMatchesDoubleFormulas() throws {
        let n = 204_805
        var rng = SeededRNG(seed: 22)
        let a = randomTensor([n], &rng, std: 3), b = randomTensor([n], &rng), g = randomTensor([n], &rng)
        let out = Tensor(zeros: [n]), da = Tensor(shape: [n], repeating: 0.5), db = Tensor(shape: [n], repeating: 0.5)
        try Activations.swigluForward(a: a, b: b, into: out)
        try Activations.swigluBackward(dOut: g, a: a, b: b, da: da, db: db)
        for i in 0..<n {
            let z = Double(a.pointer[i]), s = 1 / (1 + exp(-z)), bi = Double(b.pointer[i]), gi = Double(g.pointer[i])
            XCTAssertEqual(Double(out.pointer[i]), z * s * bi, accuracy: 1e-5 * (1 + abs(z * s * bi)), "out \(i)")
            XCTAssertEqual(Double(da.pointer[i]), 0.5 + gi * bi * s * (1 + z * (1 - s)), accuracy: 1e-5 * (1 + abs(gi * bi * z)), "da \(i)")
            XCTAssertEqual(Double(db.pointer[i]), 0.5 + gi * z * s, accuracy: 1e-5 * (1 + abs(gi * z)), "db \(i)")
        }
    }

    func testSiLUAndSwiGLUMatchFiniteDifferences() throws {
        var rng = SeededRNG(seed: 21)
        let a = randomTensor([5, 7], &rng, std: 2), b = randomTensor([5, 7], &rng), r = randomTensor([5, 7], &rng)
        let out = Tensor(zeros: [5, 7])
        try Activations.swigluForward(a: a, b: b, into: out)
        for i in 0..<a.count {   // silu(a) * b = a / (1 + e^-a) * b
            let z = Double(a.pointer[i])
            XCTAssertEqual(Double(out.pointer[i]), z / (1 + exp(-z)) * Double(b.pointer[i]), accuracy: 1e-5)
        }
        let da = Tensor(zeros: a.shape), db = Tensor(zeros: b.shape)
        try Activations.swigluBackward(dOut: r, a: a, b: b, da: da, db: db)
        let swiglu = { () throws -> Double in try Activations.swigluForward(a: a, b: b, into: out); return weightedSum(out, r) }
        try assertGradientMatches("swiglu da", input: a, analytic: da, loss: swiglu)
        try assertGradientMatches("swiglu db", input: b, analytic: db, loss: swiglu)

        let dx = Tensor(zeros: a.shape)
        try Activations.siluBackward(dOut: r, x: a, dx: dx)
        try assertGradientMatches("silu dx", input: a, analytic: dx) {
            try Activations.siluForward(a, into: out); return weightedSum(out, r)
        }
    }

    func testMultiplyBackwardAndAccumulate() throws {
        var rng = SeededRNG(seed: 22)
        let a = randomTensor([6], &rng), b = randomTensor([6], &rng), r = randomTensor([6], &rng), out = Tensor(zeros: [6])
        let da = Tensor(zeros: [6]), db = Tensor(zeros: [6])
        try Elementwise.multiplyBackward(dOut: r, a: a, b: b, da: da, db: db)
        let loss = { () throws -> Double in try Elementwise.multiply(a, b, into: out); return weightedSum(out, r) }
        try assertGradientMatches("multiply da", input: a, analytic: da, loss: loss)
        try assertGradientMatches("multiply db", input: b, analytic: db, loss: loss)
        let acc = a.copy()
        try Elementwise.accumulate(b, into: acc, alpha: 2)
        for i in 0..<6 { XCTAssertEqual(acc.pointer[i], a.pointer[i] + 2 * b.pointer[i]) }
        XCTAssertThrowsError(try Elementwise.add(a, Tensor(zeros: [5]), into: out))
    }

    func testReductions() throws {
        let t = try Tensor(shape: [2, 3], values: [1, -2, 3, 4, 5, -6])
        XCTAssertEqual(Reductions.sum(t), 5)
        XCTAssertEqual(Reductions.max(t), 5)
        XCTAssertEqual(Reductions.sumOfSquares(t), 91)
        XCTAssertEqual(try Reductions.dot(t, t), 91)
        let rows = Tensor(zeros: [2])
        try Reductions.rowSums(t, into: rows)
        XCTAssertEqual(rows.array, [2, 3])
    }
}
