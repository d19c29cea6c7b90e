// The reference kernels for Attention: direct loops over (b, h, i, j) in Double, no BLAS and no
// tiles, the whole probability row of each query computed from q and k (the backward recomputes it
// too, from its inputs only, so it checks the fast backward's use of the saved log-sum-exp).
// Same layouts and contract as Attention.forward/backward; used as the test oracle.
import Foundation

extension Attention {
    /// out = attention(q, k, v); also writes each query's log-sum-exp into logSumExp (B, H, T) if given.
    public static func forwardNaive(q: Tensor, k: Tensor, v: Tensor, segmentIds: [Int32], out: Tensor,
                                    logSumExp: Tensor? = nil) throws {
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: out, segmentIds: segmentIds, "Attention.forwardNaive")
        try logSumExp?.requireShape(s.logSumExpShape, "Attention.forwardNaive logSumExp")
        let t = s.seqLen, d = s.headDim, qStride = s.heads * d, kvStride = s.kvHeads * d
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let vh = kvSlice(v, s, b, h / s.group), oh = qSlice(out, s, b, h)
                for i in 0..<t {
                    let (p, lse) = naiveProbabilities(s, b: b, h: h, i: i, q: q, k: k, segmentIds: segmentIds)
                    for c in 0..<d {
                        var acc = 0.0
                        for j in 0..<t { acc += p[j] * Double(vh[j * kvStride + c]) }
                        oh[i * qStride + c] = Float(acc)
                    }
                    logSumExp?.pointer[(b * s.heads + h) * t + i] = Float(lse)
                }
            }
        }
    }

    /// Adds dL/dq, dL/dk, dL/dv into dq, dk, dv, recomputing the probabilities from q, k and the segments.
    public static func backwardNaive(dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, segmentIds: [Int32],
                                     dq: Tensor, dk: Tensor, dv: Tensor) throws {
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: dOut, segmentIds: segmentIds, "Attention.backwardNaive")
        let t = s.seqLen, d = s.headDim, scale = 1 / Double(d).squareRoot()
        let qStride = s.heads * d, kvStride = s.kvHeads * d
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let kvh = h / s.group
                let qh = qSlice(q, s, b, h), kh = kvSlice(k, s, b, kvh), vh = kvSlice(v, s, b, kvh), gh = qSlice(dOut, s, b, h)
                let dqh = qSlice(dq, s, b, h), dkh = kvSlice(dk, s, b, kvh), dvh = kvSlice(dv, s, b, kvh)
                for i in 0..<t {
                    let (p, _) = naiveProbabilities(s, b: b, h: h, i: i, q: q, k: k, segmentIds: segmentIds)
                    var dP = [Double](repeating: 0, count: t)
                    for j in 0..<t {
                        for c in 0..<d { dP[j] += Double(gh[i * qStride + c]) * Double(vh[j * kvStride + c]) }
                    }
                    var inner = 0.0
                    for j in 0..<t { inner += p[j] * dP[j] }
                    for j in 0..<t where p[j] != 0 {
                        let dS = p[j] * (dP[j] - inner)
                        for c in 0..<d {
                            dvh[j * kvStride + c] += Float(p[j] * Double(gh[i * qStride + c]))
                            dqh[i * qStride + c] += Float(dS * scale * Double(kh[j * kvStride + c]))
                            dkh[j * kvStride + c] += Float(dS * scale * Double(qh[i * qStride + c]))
                        }
                    }
                }
            }
        }
    }

    /// Query i of head h in batch row b: its probabilities over the T keys (0 where masked) and the
    /// log-sum-exp of its visible scores, in Double. Token i sees j iff j <= i and both share a segment.
    static func naiveProbabilities(_ s: AttentionShape, b: Int, h: Int, i: Int, q: Tensor, k: Tensor,
                                   segmentIds: [Int32]) -> (probabilities: [Double], logSumExp: Double) {
        let t = s.seqLen, d = s.headDim, scale = 1 / Double(d).squareRoot()
        let qh = qSlice(q, s, b, h), kh = kvSlice(k, s, b, h / s.group), qStride = s.heads * d, kvStride = s.kvHeads * d
        var scores = [Double](repeating: -.infinity, count: t)
        for j in 0...i where segmentIds[b * t + j] == segmentIds[b * t + i] {
            var acc = 0.0
            for c in 0..<d { acc += Double(qh[i * qStride + c]) * Double(kh[j * kvStride + c]) }
            scores[j] = acc * scale
        }
        let m = scores.max()!
        let exps = scores.map { $0 == -.infinity ? 0 : exp($0 - m) }
        let total = exps.reduce(0, +)
        return (exps.map { $0 / total }, m + log(total))
    }
}
