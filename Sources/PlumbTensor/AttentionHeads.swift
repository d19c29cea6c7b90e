// The kernels of one attention head (Attention.swift has the math and the shapes), tiled along the
// queries so that key blocks every query of a tile is masked from (the future) are never multiplied.
// For query rows r0..<r1 of head h in batch row b, only keys k0..<r1 can be visible, k0 being where
// the segment of row r0 starts (segments are contiguous runs, so later rows start no earlier):
//   S[r0..<r1, k0..<r1] = Q[r0..<r1] K[k0..<r1]^T / sqrt(D)      then the masked softmax of each row
//   O[r0..<r1]          = P[r0..<r1, k0..<r1] V[k0..<r1]
// At T = 256 with 64-row tiles this multiplies 10 of the 16 key blocks of the T x T square.
// Backward takes keys 0..<r1 (P is zero where masked, so the extra columns add exactly nothing):
//   dP = dO V^T,  dV += P^T dO,  dS = P * (dP - rowsum(dP * P)),  dQ += dS K / sqrt(D),  dK += dS^T Q / sqrt(D)

extension Attention {
    /// Forward of head h of batch row b: fills its probs (T, T) and its slice of out.
    /// `visibleFrom[i]` is where token i's segment starts, within the row.
    static func forwardHead(_ s: AttentionShape, b: Int, h: Int, q: Tensor, k: Tensor, v: Tensor, out: Tensor, probs: Tensor,
                            visibleFrom: UnsafePointer<Int32>, tileRows: Int) {
        let t = s.seqLen, d = s.headDim, qStride = s.heads * d, kvStride = s.kvHeads * d
        let p = probs.pointer + (b * s.heads + h) * t * t                                        // (T, T)
        let qh = qSlice(q, s, b, h), oh = qSlice(out, s, b, h)                                   // (T, D), row stride H*D
        let kh = kvSlice(k, s, b, h / s.group), vh = kvSlice(v, s, b, h / s.group)                // (T, D), row stride KVH*D
        for r0 in stride(from: 0, to: t, by: tileRows) {
            let r1 = min(r0 + tileRows, t), k0 = Int(visibleFrom[r0])
            Matmul.sgemm(transposeA: false, transposeB: true, m: r1 - r0, n: r1 - k0, k: d, alpha: s.scale,
                         a: qh + r0 * qStride, lda: qStride, b: kh + k0 * kvStride, ldb: kvStride,
                         beta: 0, c: p + r0 * t + k0, ldc: t)
            for i in r0..<r1 { maskedSoftmaxRow(p + i * t, t: t, i: i, visibleFrom: Int(visibleFrom[i])) }
            Matmul.sgemm(transposeA: false, transposeB: false, m: r1 - r0, n: d, k: r1 - k0, alpha: 1,
                         a: p + r0 * t + k0, lda: t, b: vh + k0 * kvStride, ldb: kvStride,
                         beta: 0, c: oh + r0 * qStride, ldc: qStride)
        }
    }

    /// Backward of head h of batch row b: adds into its slice of dq and its kv head's slices of dk, dv.
    /// `scratch` holds (tileRows, T) floats.
    static func backwardHead(_ s: AttentionShape, b: Int, h: Int, dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor,
                             dq: Tensor, dk: Tensor, dv: Tensor, scratch ds: UnsafeMutablePointer<Float>, tileRows: Int) {
        let t = s.seqLen, d = s.headDim, qStride = s.heads * d, kvStride = s.kvHeads * d, kvh = h / s.group
        let p = probs.pointer + (b * s.heads + h) * t * t                                        // (T, T)
        let qh = qSlice(q, s, b, h), dOh = qSlice(dOut, s, b, h), dqh = qSlice(dq, s, b, h)      // (T, D)
        let kh = kvSlice(k, s, b, kvh), vh = kvSlice(v, s, b, kvh)                                // (T, D)
        let dkh = kvSlice(dk, s, b, kvh), dvh = kvSlice(dv, s, b, kvh)                            // (T, D)
        for r0 in stride(from: 0, to: t, by: tileRows) {
            let r1 = min(r0 + tileRows, t), rows = r1 - r0
            let pt = p + r0 * t, dO = dOh + r0 * qStride                                          // (rows, r1), (rows, D)
            // dP = dO V^T (rows, r1);  dV[0..<r1] += P^T dO
            Matmul.sgemm(transposeA: false, transposeB: true, m: rows, n: r1, k: d, alpha: 1, a: dO, lda: qStride,
                         b: vh, ldb: kvStride, beta: 0, c: ds, ldc: t)
            Matmul.sgemm(transposeA: true, transposeB: false, m: r1, n: d, k: rows, alpha: 1, a: pt, lda: t,
                         b: dO, ldb: qStride, beta: 1, c: dvh, ldc: kvStride)
            for i in 0..<rows { softmaxBackwardRow(pt + i * t, ds + i * t, count: r1) }
            // dQ[r0..<r1] += dS K[0..<r1] / sqrt(D);  dK[0..<r1] += dS^T Q[r0..<r1] / sqrt(D)
            Matmul.sgemm(transposeA: false, transposeB: false, m: rows, n: d, k: r1, alpha: s.scale, a: ds, lda: t,
                         b: kh, ldb: kvStride, beta: 1, c: dqh + r0 * qStride, ldc: qStride)
            Matmul.sgemm(transposeA: true, transposeB: false, m: r1, n: d, k: rows, alpha: s.scale, a: ds, lda: t,
                         b: qh + r0 * qStride, ldb: qStride, beta: 1, c: dkh, ldc: kvStride)
        }
    }

    /// dS = P * (dP - sum_j P_j dP_j) over one row, in place of dP; 8 lanes at a time.
    @inline(__always)
    static func softmaxBackwardRow(_ p: UnsafePointer<Float>, _ dp: UnsafeMutablePointer<Float>, count n: Int) {
        let inner = FastMath.dot(p, dp, n)
        let innerV = SIMD8<Float>(repeating: inner)
        var j = 0
        while j + 8 <= n {
            FastMath.store(FastMath.load(p + j) * (FastMath.load(dp + j) - innerV), dp + j)
            j += 8
        }
        while j < n { dp[j] = p[j] * (dp[j] - inner); j += 1 }
    }
}
