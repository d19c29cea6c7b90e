// Causal self-attention with grouped-query heads and block-diagonal masks for packed batches.
//
// Layout: q, out (B, T, H, D); k, v (B, T, KVH, D), exactly as the q/k/v projections write them,
// so no transposes are needed: one (batch, head) slice is a strided matrix (row stride H*D or
// KVH*D) that sgemm reads directly. Query head h uses kv head h / (H / KVH) (HF `repeat_kv`).
// Saved for backward: the probabilities P (B, H, T, T) (zero where masked).
//
//   S = (Q K^T) / sqrt(D)                         (T, T) per (b, h)
//   mask: i sees j iff j <= i and segment[j] == segment[i] (segments are contiguous runs in a row)
//   P = softmax_row(S masked),  O = P V           (T, D)
// backward (Vaswani et al. 2017 derivative of the above):
//   dP = dO V^T,  dV += P^T dO,  dS = P * (dP - rowsum(dP * P)),
//   dQ += dS K / sqrt(D),  dK += dS^T Q / sqrt(D)
import Foundation

/// The sizes of one attention call.
public struct AttentionShape: Sendable, Equatable {
    public let batch: Int, seqLen: Int, heads: Int, kvHeads: Int, headDim: Int

    public init(batch: Int, seqLen: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        guard batch > 0, seqLen > 0, heads > 0, kvHeads > 0, headDim > 0, heads % kvHeads == 0 else {
            throw TensorError("Attention: need positive sizes and kvHeads dividing heads; got B \(batch) T \(seqLen) H \(heads) KVH \(kvHeads) D \(headDim)")
        }
        self.batch = batch; self.seqLen = seqLen; self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim
    }

    /// Reads B, T, H, D from q (B, T, H, D) and KVH from k (B, T, KVH, D).
    public init(q: Tensor, k: Tensor) throws {
        guard q.rank == 4, k.rank == 4 else { throw TensorError("Attention: q and k must be rank 4, got \(q.shape), \(k.shape)") }
        try self.init(batch: q.shape[0], seqLen: q.shape[1], heads: q.shape[2], kvHeads: k.shape[2], headDim: q.shape[3])
    }

    var qShape: [Int] { [batch, seqLen, heads, headDim] }
    var kvShape: [Int] { [batch, seqLen, kvHeads, headDim] }
    var probsShape: [Int] { [batch, heads, seqLen, seqLen] }
    var scale: Float { 1 / Float(headDim).squareRoot() }
    /// Query heads per kv head.
    var group: Int { heads / kvHeads }

    func check(q: Tensor, k: Tensor, v: Tensor, out: Tensor, probs: Tensor, segmentIds: [Int32]?, _ what: String) throws {
        try q.requireShape(qShape, "\(what) q"); try out.requireShape(qShape, "\(what) out/dOut")
        try k.requireShape(kvShape, "\(what) k"); try v.requireShape(kvShape, "\(what) v")
        try probs.requireShape(probsShape, "\(what) probs")
        if let segmentIds { try requireCount(segmentIds, batch * seqLen, "\(what) segmentIds") }
    }
}

public enum Attention {
    /// out = attention(q, k, v) under the causal segment mask; writes probs (B, H, T, T) for backward.
    public static func forward(q: Tensor, k: Tensor, v: Tensor, segmentIds: [Int32], out: Tensor, probs: Tensor) throws {
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: out, probs: probs, segmentIds: segmentIds, "Attention.forward")
        let t = s.seqLen, d = s.headDim, qStride = s.heads * d, kvStride = s.kvHeads * d
        for b in 0..<s.batch {   // 1. S = Q K^T / sqrt(D), one sgemm per (b, h)
            for h in 0..<s.heads {
                Matmul.sgemm(transposeA: false, transposeB: true, m: t, n: t, k: d, alpha: s.scale,
                             a: qSlice(q, s, b, h), lda: qStride, b: kvSlice(k, s, b, h / s.group), ldb: kvStride,
                             beta: 0, c: probs.pointer + (b * s.heads + h) * t * t, ldc: t)
            }
        }
        let runStarts = try segmentRunStarts(segmentIds, batch: s.batch, seqLen: t)
        let pp = probs.pointer   // 2. masked softmax over all B*H*T rows, split across cores
        runStarts.withUnsafeBufferPointer { starts in
            EngineThreads.forEachRowChunk(rows: s.batch * s.heads * t, costPerRow: t) { range in
                for row in range {
                    let i = row % t, b = row / (t * s.heads)
                    maskedSoftmaxRow(pp + row * t, t: t, i: i, visibleFrom: Int(starts[b * t + i]))
                }
            }
        }
        for b in 0..<s.batch {   // 3. O = P V
            for h in 0..<s.heads {
                Matmul.sgemm(transposeA: false, transposeB: false, m: t, n: d, k: t, alpha: 1,
                             a: probs.pointer + (b * s.heads + h) * t * t, lda: t, b: kvSlice(v, s, b, h / s.group), ldb: kvStride,
                             beta: 0, c: qSlice(out, s, b, h), ldc: qStride)
            }
        }
    }

    /// Adds dL/dq, dL/dk, dL/dv into dq, dk, dv, from dOut and the probs saved by forward.
    public static func backward(dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor, dq: Tensor, dk: Tensor, dv: Tensor) throws {
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: dOut, probs: probs, segmentIds: nil, "Attention.backward")
        try dq.requireShape(s.qShape, "Attention.backward dq"); try dk.requireShape(s.kvShape, "Attention.backward dk")
        try dv.requireShape(s.kvShape, "Attention.backward dv")
        let t = s.seqLen, d = s.headDim, qStride = s.heads * d, kvStride = s.kvHeads * d
        let scratch = Tensor(zeros: [t, t])   // dP, then dS, of one (b, h)
        let ds = scratch.pointer
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let p = probs.pointer + (b * s.heads + h) * t * t, kvh = h / s.group
                let dO = qSlice(dOut, s, b, h)
                // dP = dO V^T (T, T); dV += P^T dO (T, D)
                Matmul.sgemm(transposeA: false, transposeB: true, m: t, n: t, k: d, alpha: 1, a: dO, lda: qStride,
                             b: kvSlice(v, s, b, kvh), ldb: kvStride, beta: 0, c: ds, ldc: t)
                Matmul.sgemm(transposeA: true, transposeB: false, m: t, n: d, k: t, alpha: 1, a: p, lda: t,
                             b: dO, ldb: qStride, beta: 1, c: kvSlice(dv, s, b, kvh), ldc: kvStride)
                // dS = P * (dP - rowsum(dP * P)), in place
                for i in 0..<t {
                    let pr = p + i * t, dr = ds + i * t
                    var inner: Float = 0
                    for j in 0...i { inner += pr[j] * dr[j] }
                    for j in 0..<t { dr[j] = pr[j] * (dr[j] - inner) }
                }
                // dQ += dS K / sqrt(D); dK += dS^T Q / sqrt(D)
                Matmul.sgemm(transposeA: false, transposeB: false, m: t, n: d, k: t, alpha: s.scale, a: ds, lda: t,
                             b: kvSlice(k, s, b, kvh), ldb: kvStride, beta: 1, c: qSlice(dq, s, b, h), ldc: qStride)
                Matmul.sgemm(transposeA: true, transposeB: false, m: t, n: d, k: t, alpha: s.scale, a: ds, lda: t,
                             b: qSlice(q, s, b, h), ldb: qStride, beta: 1, c: kvSlice(dk, s, b, kvh), ldc: kvStride)
            }
        }
    }

    /// Softmax of row i of S over the visible columns lo...i (i's segment); other columns become 0.
    @inline(__always)
    static func maskedSoftmaxRow(_ row: UnsafeMutablePointer<Float>, t: Int, i: Int, visibleFrom lo: Int) {
        let visible = row + lo, count = i - lo + 1
        let m = FastMath.max(visible, count)
        let total = FastMath.expShifted(visible, visible, count, shift: m)
        FastMath.scale(visible, count, by: 1 / total)
        row.update(repeating: 0, count: lo)
        (row + i + 1).update(repeating: 0, count: t - i - 1)
    }

    /// For each token, the index (within its row) where its segment starts. Segments must be
    /// contiguous runs of one id within a row (as BatchLayout makes them); an id that reappears
    /// after another is an error, since the mask "same id and not later" would then not be a run.
    static func segmentRunStarts(_ segmentIds: [Int32], batch: Int, seqLen t: Int) throws -> [Int32] {
        var starts = [Int32](repeating: 0, count: batch * t)
        for b in 0..<batch {
            var seen = Set<Int32>(), start = 0
            for i in 0..<t {
                let id = segmentIds[b * t + i]
                if i > 0 && id != segmentIds[b * t + i - 1] {
                    start = i
                    guard !seen.contains(id) else {
                        throw TensorError("Attention: segment id \(id) reappears at row \(b), token \(i); segments must be contiguous runs")
                    }
                }
                seen.insert(id)
                starts[b * t + i] = Int32(start)
            }
        }
        return starts
    }

    @inline(__always)
    static func qSlice(_ x: Tensor, _ s: AttentionShape, _ b: Int, _ h: Int) -> UnsafeMutablePointer<Float> {
        x.pointer + b * s.seqLen * s.heads * s.headDim + h * s.headDim
    }

    @inline(__always)
    static func kvSlice(_ x: Tensor, _ s: AttentionShape, _ b: Int, _ kvh: Int) -> UnsafeMutablePointer<Float> {
        x.pointer + b * s.seqLen * s.kvHeads * s.headDim + kvh * s.headDim
    }
}
