// Causal self-attention with grouped-query heads and block-diagonal masks for packed batches,
// computed over key tiles with an online softmax (FlashAttention, Dao et al. 2022; the backward of
// FlashAttention-2, Dao 2023): no T x T matrix is stored, only each query's log-sum-exp.
//
// Layout: q, out (B, T, H, D); k, v (B, T, KVH, D), exactly as the q/k/v projections write them,
// so no transposes are needed: one (batch, head) slice is a strided matrix (row stride H*D or
// KVH*D) that sgemm reads directly. Query head h uses kv head h / (H / KVH) (HF `repeat_kv`).
// Saved for backward: out itself and L (B, H, T), the log-sum-exp of each query's visible scores.
//
//   S = (Q K^T) / sqrt(D)                         (T, T) per (b, h), never stored whole
//   mask: i sees j iff j <= i and segment[j] == segment[i] (segments are contiguous runs in a row)
//   L_i = log sum_{j visible} exp(S_ij),  P = exp(S - L) (0 where masked),  O = P V      (T, D)
// backward (the derivative of the above, with P recomputed tile by tile from L):
//   dV += P^T dO,  dP = dO V^T,  delta_i = sum_j P_ij dP_ij = sum_c dO_ic O_ic,
//   dS = P * (dP - delta),  dQ += dS K / sqrt(D),  dK += dS^T Q / sqrt(D)
// The tile kernels are in AttentionTiles.swift; the reference loops in AttentionNaive.swift.
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
    var logSumExpShape: [Int] { [batch, heads, seqLen] }
    var scale: Float { 1 / Float(headDim).squareRoot() }
    /// Query heads per kv head.
    var group: Int { heads / kvHeads }

    func check(q: Tensor, k: Tensor, v: Tensor, out: Tensor, segmentIds: [Int32], _ what: String) throws {
        try q.requireShape(qShape, "\(what) q"); try out.requireShape(qShape, "\(what) out")
        try k.requireShape(kvShape, "\(what) k"); try v.requireShape(kvShape, "\(what) v")
        try requireCount(segmentIds, batch * seqLen, "\(what) segmentIds")
    }
}

/// Tile sizes of the attention kernels: query rows per tile and keys per inner step. They change
/// the rounding of the result (float32, within the tests' tolerances), not its value.
public struct AttentionTiling: Sendable, Equatable {
    public let queryRows: Int, keyColumns: Int
    public init(queryRows: Int, keyColumns: Int) { self.queryRows = queryRows; self.keyColumns = keyColumns }
    /// 64 x 128: one tile of scores is 32 KB, a thread's scratch stays in L2.
    public static let standard = AttentionTiling(queryRows: 64, keyColumns: 128)

    func check(_ what: String) throws {
        guard queryRows > 0, keyColumns > 0 else {
            throw TensorError("\(what): tile sizes must be positive, got \(queryRows) query rows x \(keyColumns) key columns")
        }
    }
}

public enum Attention {
    /// out = attention(q, k, v) under the causal segment mask; writes logSumExp (B, H, T) for backward.
    /// One task per (batch, head), spread over the cores with single-threaded BLAS inside each.
    public static func forward(q: Tensor, k: Tensor, v: Tensor, segmentIds: [Int32], out: Tensor, logSumExp: Tensor,
                               tiling: AttentionTiling = .standard) throws {
        let profiled = StepProfile.begin(.attention); defer { StepProfile.end(profiled) }
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: out, segmentIds: segmentIds, "Attention.forward")
        try logSumExp.requireShape(s.logSumExpShape, "Attention.forward logSumExp")
        try tiling.check("Attention.forward")
        let tiles = try QueryTiles(segmentIds, batch: s.batch, seqLen: s.seqLen, rowsPerTile: tiling.queryRows)
        let scratch = ForwardScratch(tiling: tiling, headDim: s.headDim, threads: ThreadPool.shared.threads)
        forEachHeadTask(s.batch * s.heads, costPerTask: s.seqLen * s.seqLen * s.headDim) { task, thread in
            let b = task / s.heads, h = task % s.heads
            for tile in tiles.ofRow(b) {
                forwardTile(s, b: b, h: h, tile, q: q, k: k, v: v, out: out, logSumExp: logSumExp,
                            scratch: scratch.of(thread), keyColumns: tiling.keyColumns)
            }
        }
    }

    /// Adds dL/dq, dL/dk, dL/dv into dq, dk, dv, from dOut, and forward's out and logSumExp of the same
    /// q, k, v and segments. One task per (batch, kv head), which runs its query heads in order (they
    /// share dk, dv).
    public static func backward(dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
                                segmentIds: [Int32], dq: Tensor, dk: Tensor, dv: Tensor,
                                tiling: AttentionTiling = .standard) throws {
        let profiled = StepProfile.begin(.attention); defer { StepProfile.end(profiled) }
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: out, segmentIds: segmentIds, "Attention.backward")
        try dOut.requireShape(s.qShape, "Attention.backward dOut")
        try logSumExp.requireShape(s.logSumExpShape, "Attention.backward logSumExp")
        try dq.requireShape(s.qShape, "Attention.backward dq"); try dk.requireShape(s.kvShape, "Attention.backward dk")
        try dv.requireShape(s.kvShape, "Attention.backward dv")
        try tiling.check("Attention.backward")
        let tiles = try QueryTiles(segmentIds, batch: s.batch, seqLen: s.seqLen, rowsPerTile: tiling.queryRows)
        let scratch = BackwardScratch(tiling: tiling, threads: ThreadPool.shared.threads)
        forEachHeadTask(s.batch * s.kvHeads, costPerTask: s.group * s.seqLen * s.seqLen * s.headDim) { task, thread in
            let b = task / s.kvHeads, kvh = task % s.kvHeads
            for h in kvh * s.group..<(kvh + 1) * s.group {
                for tile in tiles.ofRow(b) {
                    backwardTile(s, b: b, h: h, tile, dOut: dOut, q: q, k: k, v: v, out: out, logSumExp: logSumExp,
                                 dq: dq, dk: dk, dv: dv, scratch: scratch.of(thread), keyColumns: tiling.keyColumns)
                }
            }
        }
    }

    /// Runs `body(task, thread)` for every task on ThreadPool.shared, or inline when the work
    /// (`tasks * costPerTask` multiply-adds) is too small to pay for threads; BLAS runs on one thread
    /// either way (the per-tile products are too small for OpenBLAS to split well, and a product's bits
    /// must not depend on whether its head ran alone or beside others). Each task runs on one thread,
    /// so results do not depend on the schedule.
    static func forEachHeadTask(_ tasks: Int, costPerTask: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        ThreadPool.withSingleThreadedBLAS {
            if tasks * costPerTask < 1 << 18 {
                for task in 0..<tasks { body(task, 0) }
            } else {
                ThreadPool.shared.forEach(chunks: tasks, body)
            }
        }
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
