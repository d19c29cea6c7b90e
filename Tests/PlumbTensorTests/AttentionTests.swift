// Attention's key-tiled kernels against the naive Double loops and finite differences, under GQA
// and the packing mask; every tiling against the same oracle; the same bits for an example wherever
// it sits in a batch.
//
// Tolerances: the fast kernels are float32 (sgemm, the online softmax's rescaling, exp to 4.8e-7
// relative) against a Double oracle; outputs are convex combinations of v (|v| ~ 1, D <= 16) and
// gradients sums of at most T terms of order 1, so 1e-5 absolute (a few float32 ulps of values near
// 1, times the sqrt(T) growth of a sum's rounding) for out and the log-sum-exp and 1e-4 for gradients
// at T = 150-300 hold with margin, while a wrong mask entry or rescaling moves values by 1e-2 or more.
import XCTest
@testable import PlumbTensor

final class AttentionTests: XCTestCase {
    /// Two rows: row 0 packs segments of 3 and 4 tokens and one padding token; row 1 is one segment.
    let segments: [Int32] = [0, 0, 0, 1, 1, 1, 1, -1,  0, 0, 0, 0, 0, 0, 0, 0]

    func testFastKernelMatchesNaiveForwardAndBackward() throws {
        let x = AttentionInputs(seed: 10, batch: 2, seqLen: 8, heads: 4, kvHeads: 2, headDim: 5)
        try x.assertMatchesNaive(segments: segments, tiling: .standard, atol: 1e-5, gradientAtol: 1e-5)
    }

    /// Tilings smaller than the sequence, tile sizes that do not divide it, key steps shorter and
    /// longer than the query tiles: each agrees with the naive kernel on a packed batch with GQA.
    func testEveryTilingMatchesNaive() throws {
        let x = AttentionInputs(seed: 15, batch: 2, seqLen: 8, heads: 4, kvHeads: 2, headDim: 5)
        for (rows, keys) in [(1, 1), (3, 2), (2, 3), (5, 8), (8, 3), (64, 128)] {
            try x.assertMatchesNaive(segments: segments, tiling: AttentionTiling(queryRows: rows, keyColumns: keys),
                                     atol: 1e-5, gradientAtol: 1e-5)
        }
    }

    /// Big enough for the heads to run in parallel and for several query tiles and key steps: T 150,
    /// GQA 4/2, row 0 packs segments of 60, 50 and 40 tokens, row 1 ends in 20 tokens of padding.
    /// Scores with a spread of about 9 make the running max change often (the online rescaling).
    func testParallelHeadsWithManyKeyStepsMatchNaiveAndRepeatBitForBit() throws {
        let t = 150
        let ids: [Int32] = (0..<t).map { $0 < 60 ? 0 : $0 < 110 ? 1 : 2 } + (0..<t).map { $0 < 130 ? 0 : -1 }
        let x = AttentionInputs(seed: 16, batch: 2, seqLen: t, heads: 4, kvHeads: 2, headDim: 16, qkStd: 3)
        for tiling in [AttentionTiling.standard, AttentionTiling(queryRows: 16, keyColumns: 8), AttentionTiling(queryRows: 7, keyColumns: 13)] {
            try x.assertMatchesNaive(segments: ids, tiling: tiling, atol: 1e-5, gradientAtol: 1e-4)
        }
        let first = try x.fast(segments: ids, tiling: .standard), again = try x.fast(segments: ids, tiling: .standard)
        for (a, b) in zip(first.all, again.all) { XCTAssertEqual(a.values, b.values, "same inputs, same bits") }
    }

    /// The tiling changes the rounding only: two tilings agree within the tolerance of each against
    /// the oracle (2e-5 absolute, twice 1e-5), at T 300 with 37 and 4 key steps per query.
    func testTilingsAgreeWithEachOther() throws {
        let x = AttentionInputs(seed: 17, batch: 1, seqLen: 300, heads: 2, kvHeads: 1, headDim: 8, qkStd: 2)
        let ids = [Int32](repeating: 0, count: 300)
        let a = try x.fast(segments: ids, tiling: .standard), b = try x.fast(segments: ids, tiling: AttentionTiling(queryRows: 8, keyColumns: 8))
        for (u, w, what) in zip3(a.all, b.all, ["out", "logSumExp", "dq", "dk", "dv"]) {
            assertClose(u, w, atol: 2e-5, rtol: 2e-5, "\(what): standard tiling vs 8 x 8")
        }
    }

    func testBackwardMatchesFiniteDifferencesWithGQAAndPackedMask() throws {
        let x = AttentionInputs(seed: 11, batch: 2, seqLen: 8, heads: 4, kvHeads: 2, headDim: 5)
        let tiling = AttentionTiling(queryRows: 3, keyColumns: 2)
        let g = try x.fast(segments: segments, tiling: tiling)
        let out = Tensor(zeros: x.q.shape), lse = Tensor(zeros: [2, 4, 8])
        let loss = { () throws -> Double in
            try Attention.forward(q: x.q, k: x.k, v: x.v, segmentIds: self.segments, out: out, logSumExp: lse, tiling: tiling)
            return weightedSum(out, x.dOut)
        }
        try assertGradientMatches("attention dq", input: x.q, analytic: g.dq, loss: loss)
        try assertGradientMatches("attention dk", input: x.k, analytic: g.dk, loss: loss)
        try assertGradientMatches("attention dv", input: x.v, analytic: g.dv, loss: loss)
    }

    /// Changing the keys and values a token must not see (later tokens, other segments) leaves its
    /// output and log-sum-exp unchanged, bit for bit; changing one it sees changes them.
    func testTokensNeverSeeOtherSegmentsOrTheFuture() throws {
        let x = AttentionInputs(seed: 12, batch: 2, seqLen: 8, heads: 4, kvHeads: 2, headDim: 5)
        let tiling = AttentionTiling(queryRows: 2, keyColumns: 3)
        let before = try x.fast(segments: segments, tiling: tiling)
        let width = 2 * 5   // KVH * D
        for j in 4..<8 { for c in 0..<width { x.k.pointer[j * width + c] += 1; x.v.pointer[j * width + c] -= 2 } }   // row 0, tokens 4-7
        let after = try x.fast(segments: segments, tiling: tiling)
        // Row 0's segment 0 (tokens 0-2) and token 3 (segment 1's first) see none of tokens 4-7.
        let qWidth = 4 * 5
        for i in 0..<(4 * qWidth) { XCTAssertEqual(after.out.pointer[i], before.out.pointer[i], "row 0 token \(i / qWidth)") }
        for h in 0..<4 { for i in 0..<4 { XCTAssertEqual(after.logSumExp.pointer[h * 8 + i], before.logSumExp.pointer[h * 8 + i]) } }
        XCTAssertNotEqual(after.out.pointer[5 * qWidth], before.out.pointer[5 * qWidth], "token 5 sees token 4")
        // Row 1 is untouched.
        for i in 8 * qWidth..<(16 * qWidth) { XCTAssertEqual(after.out.pointer[i], before.out.pointer[i]) }
    }

    /// An example's attention and gradients are the same bits alone (batch 1 of its length, inline),
    /// first in a packed row, or in the middle of one beside other segments and padding (heads in
    /// parallel): the query tiles start at the segment's start, so every product has the same shapes
    /// and operands. (Tiles and steps of 16 and 24 give several of each in 45 tokens.)
    func testAnExampleGivesTheSameBitsWhereverItSits() throws {
        let n = 45, heads = 4, kvHeads = 2, d = 16
        let tiling = AttentionTiling(queryRows: 16, keyColumns: 24)
        let example = AttentionInputs(seed: 18, batch: 1, seqLen: n, heads: heads, kvHeads: kvHeads, headDim: d)
        let alone = try example.fast(segments: [Int32](repeating: 0, count: n), tiling: tiling)
        let t = 100
        for (row, offset) in [(0, 0), (1, 30), (2, 55)] {
            let packed = AttentionInputs(seed: 19, batch: 3, seqLen: t, heads: heads, kvHeads: kvHeads, headDim: d)
            var ids = [Int32](repeating: 5, count: 3 * t)
            for i in 0..<t where i >= offset + n { ids[row * t + i] = -1 }   // padding after the example
            for i in offset..<(offset + n) { ids[row * t + i] = 7 }
            for (whole, part) in zip(packed.all, example.all) { whole.place(part, row: row, offset: offset) }
            let placed = try packed.fast(segments: ids, tiling: tiling)
            for (whole, part, what) in zip3(placed.all, alone.all, ["out", "logSumExp", "dq", "dk", "dv"]) {
                XCTAssertEqual(whole.slice(row: row, offset: offset, count: n, like: part), part.values,
                               "\(what) at row \(row), offset \(offset)")
            }
        }
    }

    func testRejectsBadShapesTilesAndSegments() throws {
        let x = AttentionInputs(seed: 13, batch: 2, seqLen: 8, heads: 3, kvHeads: 2, headDim: 5)
        XCTAssertThrowsError(try x.fast(segments: segments, tiling: .standard)) { XCTAssertTrue("\($0)".contains("kvHeads"), "\($0)") }
        let y = AttentionInputs(seed: 14, batch: 2, seqLen: 8, heads: 4, kvHeads: 2, headDim: 5)
        XCTAssertThrowsError(try y.fast(segments: Array(segments.prefix(5)), tiling: .standard)) {
            XCTAssertTrue("\($0)".contains("segmentIds"), "\($0)")
        }
        XCTAssertThrowsError(try y.fast(segments: segments, tiling: AttentionTiling(queryRows: 0, keyColumns: 4))) {
            XCTAssertTrue("\($0)".contains("tile sizes"), "\($0)")
        }
        XCTAssertThrowsError(try Attention.forward(q: y.q, k: y.k, v: y.v, segmentIds: segments, out: Tensor(zeros: y.q.shape),
                                                   logSumExp: Tensor(zeros: [2, 4, 8, 8]))) {
            XCTAssertTrue("\($0)".contains("logSumExp"), "\($0)")
        }
        let q = Tensor(zeros: [1, 4, 1, 2]), k = Tensor(zeros: [1, 4, 1, 2])
        XCTAssertThrowsError(try Attention.forward(q: q, k: k, v: k, segmentIds: [0, 1, 0, 0], out: Tensor(zeros: q.shape),
                                                   logSumExp: Tensor(zeros: [1, 1, 4]))) {
            XCTAssertTrue("\($0)".contains("token 2"), "\($0)")
        }
    }
}

func zip3<A: Sequence, B: Sequence, C: Sequence>(_ a: A, _ b: B, _ c: C) -> [(A.Element, B.Element, C.Element)] {
    zip(zip(a, b), c).map { ($0.0, $0.1, $1) }
}
