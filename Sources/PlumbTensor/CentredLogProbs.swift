// Each target token's log-probability centred on its expectation under the same distribution:
//
//   c_r = log p(t_r | r) + H_r,   H_r = -sum_v p_v log p_v = lse_r - sum_v p_v z_v
//
// E_{t ~ p}[log p(t)] = -H_r, so c_r has mean 0 for a token the model would itself have drawn:
// summed over a response of such tokens it does not drift down with length the way the plain
// log-likelihood does, while a token the model finds surprising (a wrong fact, or filler where it
// expected the end) still costs. With the scoring model as its own sampling model, the sum over a
// response is the numerator of Fast-DetectGPT's conditional probability curvature (Bao et al. 2024).
//
// Gradient, with p = softmax(z):
//   d log p_t / dz_j = [j == t] - p_j
//   d H / dz_j       = -p_j (log p_j + H)
//   d c / dz_j       = [j == t] - p_j (1 + log p_j + H)
// Rows whose target is CrossEntropy.ignoreIndex give 0 and no gradient.
import Foundation

public enum CentredLogProbs {
    /// out[r] = log p(targets[r] | logits[r]) + H(logits[r]); 0 for ignored rows. (N, V) -> (N).
    public static func forward(logits: Tensor, targets: [Int32], into out: Tensor) throws {
        let (rows, vocab) = try CrossEntropy.check(logits: logits, targets: targets, "CentredLogProbs.forward")
        guard out.count == rows else { throw TensorError("CentredLogProbs.forward: out has \(out.count) entries for \(rows) rows") }
        let pl = logits.pointer, po = out.pointer
        targets.withUnsafeBufferPointer { tb in
            EngineThreads.forEachRowChunk(rows: rows, costPerRow: vocab) { range in
                let expRow = UnsafeMutablePointer<Float>.allocate(capacity: vocab)   // exp(z - max) of one row
                defer { expRow.deallocate() }
                for r in range {
                    guard tb[r] != CrossEntropy.ignoreIndex else { po[r] = 0; continue }
                    let row = pl + r * vocab
                    let (lse, entropy, _) = logSumExpAndEntropy(row, expRow, vocab)
                    po[r] = row[Int(tb[r])] - lse + entropy
                }
            }
        }
    }

    /// dLogits[r] += dOut[r] * ([j == t_r] - p_j (1 + log p_j + H_r)) for non-ignored rows.
    public static func backward(logits: Tensor, targets: [Int32], dOut: Tensor, dLogits: Tensor) throws {
        let (rows, vocab) = try CrossEntropy.check(logits: logits, targets: targets, "CentredLogProbs.backward")
        guard dOut.count == rows else { throw TensorError("CentredLogProbs.backward: dOut has \(dOut.count) entries for \(rows) rows") }
        try dLogits.requireSameShape(logits, "CentredLogProbs.backward dLogits vs logits")
        let pl = logits.pointer, pg = dOut.pointer, pd = dLogits.pointer
        targets.withUnsafeBufferPointer { tb in
            EngineThreads.forEachRowChunk(rows: rows, costPerRow: vocab) { range in
                let expRow = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
                defer { expRow.deallocate() }
                for r in range where tb[r] != CrossEntropy.ignoreIndex && pg[r] != 0 {
                    let row = pl + r * vocab, d = pd + r * vocab, g = pg[r]
                    let (lse, entropy, expSum) = logSumExpAndEntropy(row, expRow, vocab)
                    let scale = g / expSum   // p_j = expRow[j] / expSum
                    for j in 0..<vocab {
                        d[j] -= scale * expRow[j] * (1 + row[j] - lse + entropy)
                    }
                    d[Int(tb[r])] += g
                }
            }
        }
    }

    /// lse = log sum_v exp(z_v), H = lse - sum_v p_v z_v and s = sum_v exp(z_v - max) of one row;
    /// leaves exp(z - max) in `expRow`.
    static func logSumExpAndEntropy(_ row: UnsafePointer<Float>, _ expRow: UnsafeMutablePointer<Float>,
                                    _ vocab: Int) -> (lse: Float, entropy: Float, expSum: Float) {
        let m = FastMath.max(row, vocab)
        let s = FastMath.expShifted(row, expRow, vocab, shift: m)
        let lse = m + logf(s)
        let meanLogit = FastMath.dot(expRow, row, vocab) / s   // sum_v p_v z_v
        return (lse, lse - meanLogit, s)
    }
}
