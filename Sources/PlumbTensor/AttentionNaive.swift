// The reference kernels for Attention: direct loops over (b, h, i, j), Double accumulation, no BLAS.
// Same layouts and same contract as Attention.forward/backward; used as the test oracle.
import Foundation

extension Attention {
    public static func forwardNaive(q: Tensor, k: Tensor, v: Tensor, segmentIds: [Int32], out: Tensor, probs: Tensor) throws {
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: out, probs: probs, segmentIds: segmentIds, "Attention.forwardNaive")
        let t = s.seqLen, d = s.headDim, scale = 1 / Double(d).squareRoot()
        func visible(_ b: Int, _ i: Int, _ j: Int) -> Bool { j <= i && segmentIds[b * t + j] == segmentIds[b * t + i] }
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let qh = qSlice(q, s, b, h), kh = kvSlice(k, s, b, h / s.group), vh = kvSlice(v, s, b, h / s.group)
                let oh = qSlice(out, s, b, h), p = probs.pointer + (b * s.heads + h) * t * t
                let qStride = s.heads * d, kvStride = s.kvHeads * d
                for i in 0..<t {
                    var scores = [Double](repeating: -.infinity, count: t)
                    for j in 0..<t where visible(b, i, j) {
                        var acc = 0.0
                        for c in 0..<d { acc += Double(qh[i * qStride + c]) * Double(kh[j * kvStride + c]) }
                        scores[j] = acc * scale
                    }
                    let m = scores.max()!
                    let exps = scores.map { $0 == -.infinity ? 0 : exp($0 - m) }
                    let total = exps.reduce(0, +)
                    for j in 0..<t { p[i * t + j] = Float(exps[j] / total) }
                    for c in 0..<d {
                        var acc = 0.0
                        for j in 0..<t { acc += exps[j] / total * Double(vh[j * kvStride + c]) }
                        oh[i * qStride + c] = Float(acc)
                    }
                }
            }
        }
    }

    public static func backwardNaive(dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor, dq: Tensor, dk: Tensor, dv: Tensor) throws {
        let s = try AttentionShape(q: q, k: k)
        try s.check(q: q, k: k, v: v, out: dOut, probs: probs, segmentIds: nil, "Attention.backwardNaive")
        let t = s.seqLen, d = s.headDim, scale = 1 / Double(d).squareRoot()
        let qStride = s.heads * d, kvStride = s.kvHeads * d
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let kvh = h / s.group, p = probs.pointer + (b * s.heads + h) * t * t
                let qh = qSlice(q, s, b, h), kh = kvSlice(k, s, b, kvh), vh = kvSlice(v, s, b, kvh), gh = qSlice(dOut, s, b, h)
                let dqh = qSlice(dq, s, b, h), dkh = kvSlice(dk, s, b, kvh), dvh = kvSlice(dv, s, b, kvh)
                for i in 0..<t {
                    var dP = [Double](repeating: 0, count: t)
                    for j in 0..<t {
                        for c in 0..<d { dP[j] += Double(gh[i * qStride + c]) * Double(vh[j * kvStride + c]) }
                    }
                    var inner = 0.0
                    for j in 0..<t { inner += Double(p[i * t + j]) * dP[j] }
                    for j in 0..<t {
                        let pij = Double(p[i * t + j]), dS = pij * (dP[j] - inner)
                        for c in 0..<d {
                            dvh[j * kvStride + c] += Float(pij * Double(gh[i * qStride + c]))
                            dqh[i * qStride + c] += Float(dS * scale * Double(kh[j * kvStride + c]))
                            dkh[j * kvStride + c] += Float(dS * scale * Double(qh[i * qStride + c]))
                        }
                    }
                }
            }
        }
    }
}
