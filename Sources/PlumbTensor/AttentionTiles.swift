// The kernels of one query tile of one head (Attention.swift has the math and the layouts). A tile
// holds rows r0..<r1 of one segment starting at k0 (AttentionQueryTiles.swift), so its queries see
// keys k0..<r1 only, causally; the keys are visited in steps of `keyColumns` from k0:
//   forward, per key step c0..<c1 (FlashAttention's online softmax, per row i):
//     S = Q[r0..<r1] K[c0..<c1]^T / sqrt(D);  S_ij = -inf for j > i
//     m' = max(m, max_j S_ij),  l = l e^(m - m') + sum_j e^(S_ij - m'),  A = A e^(m - m') + e^(S - m') V[c0..<c1]
//   then O_i = A_i / l_i and L_i = m_i + log l_i. Only the last key step of a tile can hold j > i.
//   backward, per key step: P = exp(S - L) (0 for j > i), dV[c0..<c1] += P^T dO,  dP = dO V^T,
//     dS = P * (dP - delta),  dQ[r0..<r1] += dS K[c0..<c1] / sqrt(D),  dK[c0..<c1] += dS^T Q[r0..<r1] / sqrt(D)
// Every product is a BLAS sgemm on the strided slices; the per-thread scratch holds one tile of
// scores and the running row statistics, so memory does not grow with T squared.
import Foundation

/// One thread's forward scratch: a score tile, the unnormalised output and the row max and sum.
struct ForwardTileScratch {
    let scores: UnsafeMutablePointer<Float>   // (queryRows, keyColumns)
    let accumulator: UnsafeMutablePointer<Float>   // (queryRows, D)
    let rowMax: UnsafeMutablePointer<Float>   // (queryRows)
    let rowSum: UnsafeMutablePointer<Float>   // (queryRows)
}

struct ForwardScratch {
    let buffer: Tensor, perThread: Int, tiling: AttentionTiling, headDim: Int
    init(tiling: AttentionTiling, headDim: Int, threads: Int) {
        self.tiling = tiling; self.headDim = headDim
        perThread = tiling.queryRows * (tiling.keyColumns + headDim + 2)
        buffer = Tensor(zeros: [threads, perThread])
    }
    func of(_ thread: Int) -> ForwardTileScratch {
        let base = buffer.pointer + thread * perThread, rows = tiling.queryRows
        let accumulator = base + rows * tiling.keyColumns, rowMax = accumulator + rows * headDim
        return ForwardTileScratch(scores: base, accumulator: accumulator, rowMax: rowMax, rowSum: rowMax + rows)
    }
}

/// One thread's backward scratch: P and dP (then dS) of one tile, and delta per row.
struct BackwardTileScratch {
    let probs: UnsafeMutablePointer<Float>   // (queryRows, keyColumns)
    let dScores: UnsafeMutablePointer<Float>   // (queryRows, keyColumns)
    let delta: UnsafeMutablePointer<Float>   // (queryRows)
}

struct BackwardScratch {
    let buffer: Tensor, perThread: Int, tiling: AttentionTiling
    init(tiling: AttentionTiling, threads: Int) {
        self.tiling = tiling
        perThread = tiling.queryRows * (2 * tiling.keyColumns + 1)
        buffer = Tensor(zeros: [threads, perThread])
    }
    func of(_ thread: Int) -> BackwardTileScratch {
        let base = buffer.pointer + thread * perThread, tileFloats = tiling.queryRows * tiling.keyColumns
        return BackwardTileScratch(probs: base, dScores: base + tileFloats, delta: base + 2 * tileFloats)
    }
}

extension Attention {
    /// Forward of one query tile of head h in batch row b: its rows of out and of logSumExp.
    static func forwardTile(_ s: AttentionShape, b: Int, h: Int, _ tile: QueryTile, q: Tensor, k: Tensor, v: Tensor,
                            out: Tensor, logSumExp: Tensor, scratch w: ForwardTileScratch, keyColumns kc: Int) {
        let d = s.headDim, qStride = s.heads * d, kvStride = s.kvHeads * d, rows = tile.rows
        let qt = qSlice(q, s, b, h) + tile.start * qStride                                       // (rows, D), row stride H*D
        let kh = kvSlice(k, s, b, h / s.group), vh = kvSlice(v, s, b, h / s.group)                // (T, D), row stride KVH*D
        w.rowMax.update(repeating: -.infinity, count: rows)
        w.rowSum.update(repeating: 0, count: rows)
        w.accumulator.update(repeating: 0, count: rows * d)
        for c0 in stride(from: tile.keysFrom, to: tile.end, by: kc) {
            let cols = min(kc, tile.end - c0)
            Matmul.sgemm(transposeA: false, transposeB: true, m: rows, n: cols, k: d, alpha: s.scale,
                         a: qt, lda: qStride, b: kh + c0 * kvStride, ldb: kvStride, beta: 0, c: w.scores, ldc: kc)
            for i in 0..<rows {
                onlineSoftmaxRow(w, i, visible: tile.start + i + 1 - c0, cols: cols, keyColumns: kc, headDim: d)
            }
            Matmul.sgemm(transposeA: false, transposeB: false, m: rows, n: d, k: cols, alpha: 1,
                         a: w.scores, lda: kc, b: vh + c0 * kvStride, ldb: kvStride, beta: 1, c: w.accumulator, ldc: d)
        }
        let ot = qSlice(out, s, b, h) + tile.start * qStride                                     // (rows, D)
        let lse = logSumExp.pointer + (b * s.heads + h) * s.seqLen + tile.start                  // (rows)
        for i in 0..<rows {
            let inverse = 1 / w.rowSum[i], a = w.accumulator + i * d, o = ot + i * qStride
            for c in 0..<d { o[c] = a[c] * inverse }
            lse[i] = w.rowMax[i] + logf(w.rowSum[i])
        }
    }

    /// Row i of a score tile: keys 0..<visible of the step are seen (the rest are later than the
    /// query). Replaces the scores by e^(S - m'), zero past `visible`, and rescales the row's running
    /// sum and accumulator from the old max m to the new m'.
    @inline(__always)
    static func onlineSoftmaxRow(_ w: ForwardTileScratch, _ i: Int, visible: Int, cols: Int, keyColumns kc: Int, headDim d: Int) {
        let row = w.scores + i * kc, seen = min(visible, cols)
        guard seen > 0 else { row.update(repeating: 0, count: cols); return }
        let oldMax = w.rowMax[i], newMax = Swift.max(oldMax, FastMath.max(row, seen))
        let sum = FastMath.expShifted(row, row, seen, shift: newMax)
        (row + seen).update(repeating: 0, count: cols - seen)
        if oldMax != newMax {
            let factor = FastMath.exp(oldMax - newMax)                                            // 0 when oldMax is -inf
            w.rowSum[i] *= factor
            FastMath.scale(w.accumulator + i * d, d, by: factor)
        }
        w.rowSum[i] += sum
        w.rowMax[i] = newMax
    }

    /// Backward of one query tile of head h in batch row b: adds into its rows of dq and into dk, dv of
    /// the keys it sees (its kv head's slices).
    static func backwardTile(_ s: AttentionShape, b: Int, h: Int, _ tile: QueryTile, dOut: Tensor, q: Tensor, k: Tensor, v: Tensor,
                             out: Tensor, logSumExp: Tensor, dq: Tensor, dk: Tensor, dv: Tensor,
                             scratch w: BackwardTileScratch, keyColumns kc: Int) {
        let d = s.headDim, qStride = s.heads * d, kvStride = s.kvHeads * d, rows = tile.rows, kvh = h / s.group
        let qt = qSlice(q, s, b, h) + tile.start * qStride, dOt = qSlice(dOut, s, b, h) + tile.start * qStride   // (rows, D)
        let ot = qSlice(out, s, b, h) + tile.start * qStride, dqt = qSlice(dq, s, b, h) + tile.start * qStride   // (rows, D)
        let kh = kvSlice(k, s, b, kvh), vh = kvSlice(v, s, b, kvh)                                // (T, D)
        let dkh = kvSlice(dk, s, b, kvh), dvh = kvSlice(dv, s, b, kvh)                            // (T, D)
        let lse = logSumExp.pointer + (b * s.heads + h) * s.seqLen + tile.start                  // (rows)
        for i in 0..<rows { w.delta[i] = FastMath.dot(dOt + i * qStride, ot + i * qStride, d) }
        for c0 in stride(from: tile.keysFrom, to: tile.end, by: kc) {
            let cols = min(kc, tile.end - c0)
            // P = exp(S - L), zero for keys after the query
            Matmul.sgemm(transposeA: false, transposeB: true, m: rows, n: cols, k: d, alpha: s.scale,
                         a: qt, lda: qStride, b: kh + c0 * kvStride, ldb: kvStride, beta: 0, c: w.probs, ldc: kc)
            for i in 0..<rows {
                let row = w.probs + i * kc, seen = Swift.max(0, min(tile.start + i + 1 - c0, cols))
                _ = FastMath.expShifted(row, row, seen, shift: lse[i])
                (row + seen).update(repeating: 0, count: cols - seen)
            }
            // dV[c0..<c1] += P^T dO;  dP = dO V[c0..<c1]^T
            Matmul.sgemm(transposeA: true, transposeB: false, m: cols, n: d, k: rows, alpha: 1, a: w.probs, lda: kc,
                         b: dOt, ldb: qStride, beta: 1, c: dvh + c0 * kvStride, ldc: kvStride)
            Matmul.sgemm(transposeA: false, transposeB: true, m: rows, n: cols, k: d, alpha: 1, a: dOt, lda: qStride,
                         b: vh + c0 * kvStride, ldb: kvStride, beta: 0, c: w.dScores, ldc: kc)
            for i in 0..<rows { softmaxBackwardRow(w.probs + i * kc, w.dScores + i * kc, count: cols, delta: w.delta[i]) }
            // dQ[r0..<r1] += dS K[c0..<c1] / sqrt(D);  dK[c0..<c1] += dS^T Q[r0..<r1] / sqrt(D)
            Matmul.sgemm(transposeA: false, transposeB: false, m: rows, n: d, k: cols, alpha: s.scale, a: w.dScores, lda: kc,
                         b: kh + c0 * kvStride, ldb: kvStride, beta: 1, c: dqt, ldc: qStride)
            Matmul.sgemm(transposeA: true, transposeB: false, m: cols, n: d, k: rows, alpha: s.scale, a: w.dScores, lda: kc,
                         b: qt, ldb: qStride, beta: 1, c: dkh + c0 * kvStride, ldc: kvStride)
        }
    }

    /// dS = P * (dP - delta) over one row, in place of dP; 8 lanes at a time.
    @inline(__always)
    static func softmaxBackwardRow(_ p: UnsafePointer<Float>, _ dp: UnsafeMutablePointer<Float>, count n: Int, delta: Float) {
        let deltaV = SIMD8<Float>(repeating: delta)
        var j = 0
        while j + 8 <= n {
            FastMath.store(FastMath.load(p + j) * (FastMath.load(dp + j) - deltaV), dp + j)
            j += 8
        }
        while j < n { dp[j] = p[j] * (dp[j] - delta); j += 1 }
    }
}
