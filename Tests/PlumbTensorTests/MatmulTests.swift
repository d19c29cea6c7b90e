import XCTest
@testable import PlumbTensor

final class MatmulTests: XCTestCase {
    func testSgemmMatchesNaiveForEveryTransposeAndBeta() throws {
        var rng = SeededRNG(seed: 1)
        let m = 37, n = 29, k = 53
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = randomTensor(transposeA ? [k, m] : [m, k], &rng)
                let b = randomTensor(transposeB ? [n, k] : [k, n], &rng)
                let start = randomTensor([m, n], &rng)
                let fast = start.copy(), slow = start.copy()
                try Matmul.gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: fast, alpha: 0.7, beta: 0.5)
                try Matmul.gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: slow, alpha: 0.7, beta: 0.5, kernel: .naive)
                // Float sums of 53 products of unit normals: error ~ 1e-5 relative to their magnitude ~7.
                assertClose(fast, slow, atol: 1e-4, rtol: 1e-5, "gemm tA \(transposeA) tB \(transposeB)")
            }
        }
    }

    func testBatchedMatchesPerEntryNaive() throws {
        var rng = SeededRNG(seed: 2)
        let a = randomTensor([3, 5, 7], &rng), b = randomTensor([3, 4, 7], &rng)
        let fast = Tensor(zeros: [3, 5, 4]), slow = Tensor(zeros: [3, 5, 4])
        try Matmul.batched(a, b, transposeB: true, into: fast)
        try Matmul.batched(a, b, transposeB: true, into: slow, kernel: .naive)
        assertClose(fast, slow, atol: 1e-5, rtol: 1e-5, "batched")
    }

    func testGemmRejectsMismatchedShapes() {
        let a = Tensor(zeros: [4, 3]), b = Tensor(zeros: [4, 5]), c = Tensor(zeros: [4, 5])
        XCTAssertThrowsError(try Matmul.gemm(a, b, into: c)) { error in
            XCTAssertTrue("\(error)".contains("gemm"), "message names the op: \(error)")
        }
        XCTAssertThrowsError(try Linear.forward(x: Tensor(zeros: [2, 3]), weight: Tensor(zeros: [5, 4]), out: Tensor(zeros: [2, 5])))
    }

    func testLinearForwardMatchesNaiveAndBackwardMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 3)
        let x = randomTensor([2, 3, 6], &rng), w = randomTensor([5, 6], &rng), r = randomTensor([2, 3, 5], &rng)
        let y = Tensor(zeros: [2, 3, 5]), yNaive = Tensor(zeros: [2, 3, 5])
        try Linear.forward(x: x, weight: w, out: y)
        try Linear.forward(x: x, weight: w, out: yNaive, kernel: .naive)
        assertClose(y, yNaive, atol: 1e-5, rtol: 1e-5, "linear forward")

        // Backward accumulates: start the gradients from a non-zero value and subtract it after.
        let dx = Tensor(shape: x.shape, repeating: 0.25), dw = Tensor(shape: w.shape, repeating: -0.5)
        try Linear.backward(dOut: r, x: x, weight: w, dx: dx, dWeight: dw)
        for i in 0..<dx.count { dx.pointer[i] -= 0.25 }
        for i in 0..<dw.count { dw.pointer[i] += 0.5 }
        let loss = { () throws -> Double in try Linear.forward(x: x, weight: w, out: y); return weightedSum(y, r) }
        try assertGradientMatches("linear dx", input: x, analytic: dx, loss: loss)
        try assertGradientMatches("linear dW", input: w, analytic: dw, loss: loss)

        let dxNaive = Tensor(zeros: x.shape), dwNaive = Tensor(zeros: w.shape)
        try Linear.backward(dOut: r, x: x, weight: w, dx: dxNaive, dWeight: dwNaive, kernel: .naive)
        assertClose(dx, dxNaive, atol: 1e-5, rtol: 1e-4, "linear dx blas vs naive")
        assertClose(dw, dwNaive, atol: 1e-5, rtol: 1e-4, "linear dW blas vs naive")
    }

    /// Large enough for dx and dW to run side by side on the pool: both still accumulate onto what
    /// the buffers held and match the naive kernel; a frozen weight (dW nil) takes the serial path.
    func testLinearBackwardSideBySideMatchesNaive() throws {
        let rows = 256, inF = 128, outF = 160
        XCTAssertGreaterThanOrEqual(rows * inF * outF, Linear.sideBySideWork)
        var rng = SeededRNG(seed: 5)
        let x = randomTensor([rows, inF], &rng), w = randomTensor([outF, inF], &rng), dy = randomTensor([rows, outF], &rng)
        let dx = Tensor(shape: x.shape, repeating: 0.25), dw = Tensor(shape: w.shape, repeating: -0.5)
        let dxNaive = Tensor(shape: x.shape, repeating: 0.25), dwNaive = Tensor(shape: w.shape, repeating: -0.5)
        try Linear.backward(dOut: dy, x: x, weight: w, dx: dx, dWeight: dw)
        try Linear.backward(dOut: dy, x: x, weight: w, dx: dxNaive, dWeight: dwNaive, kernel: .naive)
        assertClose(dx, dxNaive, atol: 1e-4, rtol: 1e-4, "dx side by side vs naive")
        assertClose(dw, dwNaive, atol: 1e-4, rtol: 1e-4, "dW side by side vs naive")
        let dxAlone = Tensor(shape: x.shape, repeating: 0.25)
        try Linear.backward(dOut: dy, x: x, weight: w, dx: dxAlone, dWeight: nil)
        // Two-thread BLAS may round differently from one thread: equal within float rounding only.
        assertClose(dxAlone, dx, atol: 1e-4, rtol: 1e-5, "dx alone vs dx beside dW")
    }

    func testFrozenWeightGetsNoGradient() throws {
        var rng = SeededRNG(seed: 4)
        let x = randomTensor([4, 3], &rng), w = randomTensor([2, 3], &rng), dy = randomTensor([4, 2], &rng)
        let dx = Tensor(zeros: [4, 3])
        try Linear.backward(dOut: dy, x: x, weight: w, dx: dx, dWeight: nil)
        XCTAssertGreaterThan(Reductions.sumOfSquares(dx), 0, "dx is still computed")
    }
}

final class GradientCheckSelfTest: XCTestCase {
    /// The finite-difference check must catch a wrong gradient (here, dW with one entry off by 1%).
    func testGradientCheckDetectsAWrongGradient() throws {
        var rng = SeededRNG(seed: 5)
        let x = randomTensor([4, 3], &rng), w = randomTensor([2, 3], &rng), r = randomTensor([4, 2], &rng), y = Tensor(zeros: [4, 2])
        let dw = Tensor(zeros: w.shape)
        try Linear.backward(dOut: r, x: x, weight: w, dx: nil, dWeight: dw)
        dw.pointer[4] *= 1.05
        let result = try gradientMismatches(input: w, analytic: dw) { try Linear.forward(x: x, weight: w, out: y); return weightedSum(y, r) }
        XCTAssertEqual(result.failures, 1, "exactly the perturbed entry fails: \(result.first ?? "-")")
    }
}

final class GemmBenchmarkTests: XCTestCase {
    /// The benchmark's three products per layer are the ones Linear issues: same dims, 2*M*in*out flops each.
    func testLinearRolesDescribeTheLayerProducts() {
        for role in LinearProductRole.allCases {
            let s = GemmShape(linearRole: role, tokens: 2048, inFeatures: 288, outFeatures: 768)
            XCTAssertEqual(s.flops, 2 * 2048 * 288 * 768, "\(role)")
        }
        let dW = GemmShape(linearRole: .dW, tokens: 2048, inFeatures: 288, outFeatures: 768)
        XCTAssertEqual([dW.m, dW.n, dW.k], [768, 288, 2048]); XCTAssertTrue(dW.transposeA)
        let t = GemmBenchmark.time(GemmShape(m: 64, n: 64, k: 64), repetitions: 2)
        XCTAssertGreaterThan(t.bestSeconds, 0); XCTAssertTrue(t.gflops.isFinite)
    }
}
