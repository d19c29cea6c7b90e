// Causal self-attention with grouped-query heads and block-diagonal masks for packed batches.
//
// Layout: q, out (B, T, H, D); k, v (B, T, KVH, D), exactly as the q/k/v projections write them,
// so no transposes are needed: one (batch, head) slice is a strided matrix (row stride H*D or
// KVH*D) that sgemm reads directly. Query head h uses kv head h / (H / KVH) (HF `repeat_kv`).
// Saved for backward: the probabilities P (B, H, T, T) (zero where masked). The per-head kernels,
// tiled so that fully masked (future) key blocks are skipped, are in AttentionHeads.swift.
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
    /// Query rows per causal tile: keys after a tile's last row are never multiplied (see AttentionHeads).
    public static let defaultTileRows = 64

    /// out = attention(q, k, v) under the causal segment mask; writes probs (B, H, T, T) for backward.
    /// One task per (batch, head), spread over the cores with single-threaded BLAS inside each.
    public static func forward(q: Tensor, k: Tensor, v: Tensor, segmentIds: [Int32], out: Tensor, probs: Tensor,
                               tileRows: Int = defaultTileRows) throws {
        let profiled = StepProfile.begin(.attention); defer { StepProfile.end(profiled) }
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: out, probs: probs, segmentIds: segmentIds, "Attention.forward")
        guard tileRows > 0 else { throw TensorError("Attention.forward: tileRows must be positive, got \(tileRows)") }
        let runStarts = try segmentRunStarts(segmentIds, batch: s.batch, seqLen: s.seqLen)
        runStarts.withUnsafeBufferPointer { starts in
            forEachHeadTask(s.batch * s.heads, costPerTask: s.seqLen * s.seqLen * s.headDim) { task, _ in
                let b = task / s.heads, h = task % s.heads
                forwardHead(s, b: b, h: h, q: q, k: k, v: v, out: out, probs: probs,
                            visibleFrom: starts.baseAddress! + b * s.seqLen, tileRows: tileRows)
            }
        }
    }

    /// Adds dL/dq, dL/dk, dL/dv into dq, dk, dv, from dOut and the probs saved by forward.
    /// One task per (batch, kv head), which runs its query heads in order (they share dk, dv).
    public static func backward(dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor, dq: Tensor, dk: Tensor, dv: Tensor,
                                tileRows: Int = defaultTileRows) throws {
        let profiled = StepProfile.begin(.attention); defer { StepProfile.end(profiled) }
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: dOut, probs: probs, segmentIds: nil, "Attention.backward")
        try dq.requireShape(s.qShape, "Attention.backward dq"); try dk.requireShape(s.kvShape, "Attention.backward dk")
        try dv.requireShape(s.kvShape, "Attention.backward dv")
        guard tileRows > 0 else { throw TensorError("Attention.backward: tileRows must be positive, got \(tileRows)") }
        let tile = min(tileRows, s.seqLen)
        let scratch = Tensor(zeros: [ThreadPool.shared.threads, tile, s.seqLen])   // per thread: dP, then dS, of one tile
        forEachHeadTask(s.batch * s.kvHeads, costPerTask: s.group * s.seqLen * s.seqLen * s.headDim) { task, thread in
            let b = task / s.kvHeads, kvh = task % s.kvHeads
            for h in kvh * s.group..<(kvh + 1) * s.group {
                backwardHead(s, b: b, h: h, dOut: dOut, q: q, k: k, v: v, probs: probs, dq: dq, dk: dk, dv: dv,
                             scratch: scratch.pointer + thread * tile * s.seqLen, tileRows: tile)
            }
        }
    }

    /// Runs `body(task, thread)` for every task on ThreadPool.shared with single-threaded BLAS (the
    /// per-head products are too small for OpenBLAS to split well; side by side they fill the cores),
    /// or inline when the work (`tasks * costPerTask` multiply-adds) is too small to pay for threads.
    /// Each task runs on one thread, so results do not depend on the schedule.
    static func forEachHeadTask(_ tasks: Int, costPerTask: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        if tasks * costPerTask < 1 << 18 {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        ThreadPool.withSingleThreadedBLAS { ThreadPool.shared.forEach(chunks: tasks, body) }
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
