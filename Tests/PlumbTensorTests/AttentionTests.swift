import XCTest
@testable import PlumbTensor

final class AttentionTests: XCTestCase {
    /// Two rows: row 0 packs segments of 3 and 4 tokens and one padding token; row 1 is one segment.
    let segments: [Int32] = [0, 0, 0, 1, 1, 1, 1, -1,  0, 0, 0, 0, 0, 0, 0, 0]

    struct Inputs { let q: Tensor, k: Tensor, v: Tensor, dOut: Tensor }

    func makeInputs(seed: UInt64, heads: Int = 4, kvHeads: Int = 2, headDim: Int = 5) -> Inputs {
        var rng = SeededRNG(seed: seed)
        return Inputs(q: randomTensor([2, 8, heads, headDim], &rng), k: randomTensor([2, 8, kvHeads, headDim], &rng),
                      v: randomTensor([2, 8, kvHeads, headDim], &rng), dOut: randomTensor([2, 8, heads, headDim], &rng))
    }

    func testFastKernelMatchesNaiveForwardAndBackward() throws {
        let x = makeInputs(seed: 10)
        let out = Tensor(zeros: x.q.shape), probs = Tensor(zeros: [2, 4, 8, 8])
        let outRef = Tensor(zeros: x.q.shape), probsRef = Tensor(zeros: [2, 4, 8, 8])
        try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: segments, out: out, probs: probs)
        try Attention.forwardNaive(q: x.q, k: x.k, v: x.v, segmentIds: segments, out: outRef, probs: probsRef)
        assertClose(out, outRef, atol: 1e-5, rtol: 1e-5, "attention out")
        assertClose(probs, probsRef, atol: 1e-6, rtol: 1e-5, "attention probs")

        let grads = (0..<3).map { _ in Tensor(zeros: x.q.shape) }
        let dq = grads[0], dk = Tensor(zeros: x.k.shape), dv = Tensor(zeros: x.v.shape)
        let dqRef = Tensor(zeros: x.q.shape), dkRef = Tensor(zeros: x.k.shape), dvRef = Tensor(zeros: x.v.shape)
        try Attention.backward(dOut: x.dOut, q: x.q, k: x.k, v: x.v, probs: probs, dq: dq, dk: dk, dv: dv)
        try Attention.backwardNaive(dOut: x.dOut, q: x.q, k: x.k, v: x.v, probs: probs, dq: dqRef, dk: dkRef, dv: dvRef)
        assertClose(dq, dqRef, atol: 1e-5, rtol: 1e-4, "attention dq")
        assertClose(dk, dkRef, atol: 1e-5, rtol: 1e-4, "attention dk")
        assertClose(dv, dvRef, atol: 1e-5, rtol: 1e-4, "attention dv")
    }

    /// The causal tiles (any tile height, including ones that do not divide T) agree with the naive
    /// kernel, forward and backward, on a packed batch with GQA.
    func testEveryTileHeightMatchesNaive() throws {
        let x = makeInputs(seed: 15)
        let outRef = Tensor(zeros: x.q.shape), probsRef = Tensor(zeros: [2, 4, 8, 8])
        try Attention.forwardNaive(q: x.q, k: x.k, v: x.v, segmentIds: segments, out: outRef, probs: probsRef)
        let dqRef = Tensor(zeros: x.q.shape), dkRef = Tensor(zeros: x.k.shape), dvRef = Tensor(zeros: x.v.shape)
        try Attention.backwardNaive(dOut: x.dOut, q: x.q, k: x.k, v: x.v, probs: probsRef, dq: dqRef, dk: dkRef, dv: dvRef)
        for tile in [1, 3, 5, 8, 64] {
            let out = Tensor(zeros: x.q.shape), probs = Tensor(zeros: [2, 4, 8, 8])
            probs.fill(7)   // stale values must not leak into masked entries
            try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: segments, out: out, probs: probs, tileRows: tile)
            assertClose(out, outRef, atol: 1e-5, rtol: 1e-5, "out, tile \(tile)")
            assertClose(probs, probsRef, atol: 1e-6, rtol: 1e-5, "probs, tile \(tile)")
            let dq = Tensor(zeros: x.q.shape), dk = Tensor(zeros: x.k.shape), dv = Tensor(zeros: x.v.shape)
            try Attention.backward(dOut: x.dOut, q: x.q, k: x.k, v: x.v, probs: probs, dq: dq, dk: dk, dv: dv, tileRows: tile)
            assertClose(dq, dqRef, atol: 1e-5, rtol: 1e-4, "dq, tile \(tile)")
            assertClose(dk, dkRef, atol: 1e-5, rtol: 1e-4, "dk, tile \(tile)")
            assertClose(dv, dvRef, atol: 1e-5, rtol: 1e-4, "dv, tile \(tile)")
        }
    }

    /// Big enough for the heads to run in parallel (forEachTaskWithSerialBLAS) and for several
    /// 64-row tiles: T 150, GQA 4/2, row 0 packs segments of 60, 50 and 40 tokens, row 1 has 20 of padding.
    func testParallelHeadsWithSeveralTilesMatchNaive() throws {
        let t = 150, heads = 4, kvHeads = 2, d = 16
        var rng = SeededRNG(seed: 16)
        let q = randomTensor([2, t, heads, d], &rng), k = randomTensor([2, t, kvHeads, d], &rng)
        let v = randomTensor([2, t, kvHeads, d], &rng), dOut = randomTensor([2, t, heads, d], &rng)
        let ids: [Int32] = (0..<t).map { $0 < 60 ? 0 : $0 < 110 ? 1 : 2 } + (0..<t).map { $0 < 130 ? 0 : -1 }
        let out = Tensor(zeros: q.shape), probs = Tensor(zeros: [2, heads, t, t])
        let outRef = Tensor(zeros: q.shape), probsRef = Tensor(zeros: [2, heads, t, t])
        try Attention.forward(q: q, k: k, v: v, segmentIds: ids, out: out, probs: probs)
        try Attention.forwardNaive(q: q, k: k, v: v, segmentIds: ids, out: outRef, probs: probsRef)
        assertClose(out, outRef, atol: 1e-5, rtol: 1e-4, "out")
        assertClose(probs, probsRef, atol: 1e-6, rtol: 1e-4, "probs")
        let dq = Tensor(zeros: q.shape), dk = Tensor(zeros: k.shape), dv = Tensor(zeros: v.shape)
        let dqRef = Tensor(zeros: q.shape), dkRef = Tensor(zeros: k.shape), dvRef = Tensor(zeros: v.shape)
        try Attention.backward(dOut: dOut, q: q, k: k, v: v, probs: probs, dq: dq, dk: dk, dv: dv)
        try Attention.backwardNaive(dOut: dOut, q: q, k: k, v: v, probs: probs, dq: dqRef, dk: dkRef, dv: dvRef)
        assertClose(dq, dqRef, atol: 1e-4, rtol: 1e-4, "dq")
        assertClose(dk, dkRef, atol: 1e-4, rtol: 1e-4, "dk")
        assertClose(dv, dvRef, atol: 1e-4, rtol: 1e-4, "dv")
        // Same inputs, same bits, whichever thread ran each head.
        let again = Tensor(zeros: q.shape), dqAgain = Tensor(zeros: q.shape)
        try Attention.forward(q: q, k: k, v: v, segmentIds: ids, out: again, probs: probs)
        try Attention.backward(dOut: dOut, q: q, k: k, v: v, probs: probs, dq: dqAgain, dk: Tensor(zeros: k.shape), dv: Tensor(zeros: v.shape))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: again.pointer, count: again.count)),
                       Array(UnsafeBufferPointer(start: out.pointer, count: out.count)))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: dqAgain.pointer, count: dqAgain.count)),
                       Array(UnsafeBufferPointer(start: dq.pointer, count: dq.count)))
    }

    func testBackwardMatchesFiniteDifferencesWithGQAAndPackedMask() throws {
        let x = makeInputs(seed: 11)
        let out = Tensor(zeros: x.q.shape), probs = Tensor(zeros: [2, 4, 8, 8])
        try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: segments, out: out, probs: probs)
        let dq = Tensor(zeros: x.q.shape), dk = Tensor(zeros: x.k.shape), dv = Tensor(zeros: x.v.shape)
        try Attention.backward(dOut: x.dOut, q: x.q, k: x.k, v: x.v, probs: probs, dq: dq, dk: dk, dv: dv)
        let loss = { () throws -> Double in
            try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: self.segments, out: out, probs: probs)
            return weightedSum(out, x.dOut)
        }
        try assertGradientMatches("attention dq", input: x.q, analytic: dq, loss: loss)
        try assertGradientMatches("attention dk", input: x.k, analytic: dk, loss: loss)
        try assertGradientMatches("attention dv", input: x.v, analytic: dv, loss: loss)
    }

    func testTokensNeverSeeOtherSegmentsOrTheFuture() throws {
        let x = makeInputs(seed: 12)
        let out = Tensor(zeros: x.q.shape), probs = Tensor(zeros: [2, 4, 8, 8])
        try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: segments, out: out, probs: probs)
        for b in 0..<2 {
            for h in 0..<4 {
                for i in 0..<8 {
                    var rowSum: Float = 0
                    for j in 0..<8 {
                        let p = probs.pointer[((b * 4 + h) * 8 + i) * 8 + j]
                        rowSum += p
                        let visible = j <= i && segments[b * 8 + j] == segments[b * 8 + i]
                        if !visible { XCTAssertEqual(p, 0, "b \(b) h \(h): token \(i) must not see token \(j)") }
                    }
                    XCTAssertEqual(rowSum, 1, accuracy: 1e-5)
                }
            }
        }
        // Changing the keys and values of segment 0 in row 0 leaves segment 1's outputs unchanged, bit for bit.
        let before = out.copy()
        for t in 0..<3 { for c in 0..<10 { x.k.pointer[t * 10 + c] += 1; x.v.pointer[t * 10 + c] -= 2 } }
        try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: segments, out: out, probs: probs)
        let width = 4 * 5
        for t in 3..<7 { for c in 0..<width { XCTAssertEqual(out.pointer[t * width + c], before.pointer[t * width + c]) } }
    }

    func testRejectsBadShapes() throws {
        let x = makeInputs(seed: 13, heads: 3, kvHeads: 2)
        XCTAssertThrowsError(try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: segments,
                                                   out: Tensor(zeros: x.q.shape), probs: Tensor(zeros: [2, 3, 8, 8]))) {
            XCTAssertTrue("\($0)".contains("kvHeads"), "\($0)")
        }
        let y = makeInputs(seed: 14)
        XCTAssertThrowsError(try Attention.forward(q: y.q, k: y.k, v: y.v, segmentIds: Array(segments.prefix(5)),
                                                   out: Tensor(zeros: y.q.shape), probs: Tensor(zeros: [2, 4, 8, 8])))
    }
}

final class AttentionSegmentTests: XCTestCase {
    func testSegmentIdsMustBeContiguousRuns() throws {
        let q = Tensor(zeros: [1, 4, 1, 2]), k = Tensor(zeros: [1, 4, 1, 2])
        XCTAssertThrowsError(try Attention.forward(q: q, k: k, v: k, segmentIds: [0, 1, 0, 0], out: Tensor(zeros: q.shape),
                                                   probs: Tensor(zeros: [1, 1, 4, 4]))) {
            XCTAssertTrue("\($0)".contains("token 2"), "\($0)")
        }
    }
}
