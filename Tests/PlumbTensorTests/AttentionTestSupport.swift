// Inputs and results of one attention call for AttentionTests: seeded q, k, v and dOut, the fast and
// the naive kernels run on them, and the pieces of a batch that belong to one example.
import XCTest
@testable import PlumbTensor

struct AttentionInputs {
    let q: Tensor      // (B, T, H, D)
    let k: Tensor      // (B, T, KVH, D)
    let v: Tensor      // (B, T, KVH, D)
    let dOut: Tensor   // (B, T, H, D)

    /// `qkStd` spreads the scores (std about qkStd^2 at any D) so that the running max moves often.
    init(seed: UInt64, batch b: Int, seqLen t: Int, heads: Int, kvHeads: Int, headDim d: Int, qkStd: Float = 1) {
        var rng = SeededRNG(seed: seed)
        q = randomTensor([b, t, heads, d], &rng, std: qkStd); k = randomTensor([b, t, kvHeads, d], &rng, std: qkStd)
        v = randomTensor([b, t, kvHeads, d], &rng); dOut = randomTensor([b, t, heads, d], &rng)
    }

    var all: [Tensor] { [q, k, v, dOut] }

    /// Forward, then backward from dOut into zeroed gradients, with the fast kernels.
    func fast(segments: [Int32], tiling: AttentionTiling) throws -> AttentionResults {
        let r = AttentionResults(like: self)
        try Attention.forward(q: q, k: k, v: v, segmentIds: segments, out: r.out, logSumExp: r.logSumExp, tiling: tiling)
        try Attention.backward(dOut: dOut, q: q, k: k, v: v, out: r.out, logSumExp: r.logSumExp, segmentIds: segments,
                               dq: r.dq, dk: r.dk, dv: r.dv, tiling: tiling)
        return r
    }

    func naive(segments: [Int32]) throws -> AttentionResults {
        let r = AttentionResults(like: self)
        try Attention.forwardNaive(q: q, k: k, v: v, segmentIds: segments, out: r.out, logSumExp: r.logSumExp)
        try Attention.backwardNaive(dOut: dOut, q: q, k: k, v: v, segmentIds: segments, dq: r.dq, dk: r.dk, dv: r.dv)
        return r
    }

    /// out and the log-sum-exp within `atol` (+ the same relative), gradients within `gradientAtol` (+ 1e-4 relative).
    func assertMatchesNaive(segments: [Int32], tiling: AttentionTiling, atol: Float, gradientAtol: Float,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let fast = try fast(segments: segments, tiling: tiling), naive = try naive(segments: segments)
        let tiles = "tiles \(tiling.queryRows) x \(tiling.keyColumns)"
        assertClose(fast.out, naive.out, atol: atol, rtol: atol, "out, \(tiles)", file: file, line: line)
        assertClose(fast.logSumExp, naive.logSumExp, atol: atol, rtol: atol, "logSumExp, \(tiles)", file: file, line: line)
        assertClose(fast.dq, naive.dq, atol: gradientAtol, rtol: 1e-4, "dq, \(tiles)", file: file, line: line)
        assertClose(fast.dk, naive.dk, atol: gradientAtol, rtol: 1e-4, "dk, \(tiles)", file: file, line: line)
        assertClose(fast.dv, naive.dv, atol: gradientAtol, rtol: 1e-4, "dv, \(tiles)", file: file, line: line)
    }
}

struct AttentionResults {
    let out: Tensor         // (B, T, H, D)
    let logSumExp: Tensor   // (B, H, T)
    let dq: Tensor          // (B, T, H, D)
    let dk: Tensor          // (B, T, KVH, D)
    let dv: Tensor          // (B, T, KVH, D)

    init(like x: AttentionInputs) {
        let s = x.q.shape
        out = Tensor(zeros: s); logSumExp = Tensor(zeros: [s[0], s[2], s[1]])
        dq = Tensor(zeros: s); dk = Tensor(zeros: x.k.shape); dv = Tensor(zeros: x.v.shape)
    }

    var all: [Tensor] { [out, logSumExp, dq, dk, dv] }
}

extension Tensor {
    var values: [Float] { array }

    /// Copies `part` (1, n, ...) into this (B, T, ...) tensor's batch row `row`, tokens offset..<offset+n.
    func place(_ part: Tensor, row: Int, offset: Int) {
        let width = shape.dropFirst(2).reduce(1, *), n = part.shape[1]
        (pointer + (row * shape[1] + offset) * width).update(from: part.pointer, count: n * width)
    }

    /// This tensor's values of batch row `row`, tokens offset..<offset+count, in the layout of `like`
    /// (a batch-1 tensor of `count` tokens): (B, T, ...) tensors, or (B, H, T) for the log-sum-exp.
    func slice(row: Int, offset: Int, count n: Int, like: Tensor) -> [Float] {
        if rank == 3 {   // (B, H, T)
            let heads = shape[1], t = shape[2]
            return (0..<heads).flatMap { h in Array(UnsafeBufferPointer(start: pointer + (row * heads + h) * t + offset, count: n)) }
        }
        let width = shape.dropFirst(2).reduce(1, *)
        return Array(UnsafeBufferPointer(start: pointer + (row * shape[1] + offset) * width, count: n * width))
    }
}
