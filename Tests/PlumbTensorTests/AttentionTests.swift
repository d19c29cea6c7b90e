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
