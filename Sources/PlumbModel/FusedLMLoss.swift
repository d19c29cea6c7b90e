// Fused cross-entropy for the LM head's training loss: the same math as PlumbTensor's
// CrossEntropy.meanLoss, but the gradient is written over the logits in place instead of into a
// separate zeroed dLogits (N, V) (at 15m x 8 x 256 that buffer would be 2048 x 32000 floats, 262 MB),
// each exp computed once, 8 lanes at a time (FastMath):
//   m_r = max_i z_ri,  e_ri = exp(z_ri - m_r),  s_r = sum_i e_ri,  lse_r = m_r + log s_r
//   L = (1/K) sum_r (lse_r - z_r,y_r)                               (K kept rows, or `divisor`)
//   dL/dz_ri = (scale / K) * (e_ri / s_r - [i == y_r]);  ignored rows (target -1) get 0
// Checked against CrossEntropy.meanLoss in the tests.
import Foundation
import PlumbTensor

enum FusedLMLoss {
    /// Returns the mean loss and K; overwrites `logits` (N, V) with d(gradScale * L)/dlogits.
    static func lossAndGradientInPlace(logits: Tensor, targets: [Int32], gradScale: Float, divisor: Int?) throws -> (loss: Float, tokens: Int) {
        let profiled = StepProfile.begin(.loss); defer { StepProfile.end(profiled) }
        guard logits.rank == 2, targets.count == logits.shape[0] else {
            throw TensorError("FusedLMLoss: logits \(logits.shape) need one target per row, got \(targets.count)")
        }
        let rows = logits.shape[0], vocab = logits.shape[1]
        for (r, t) in targets.enumerated() where t != CrossEntropy.ignoreIndex && (t < 0 || Int(t) >= vocab) {
            throw TensorError("FusedLMLoss: target \(t) at row \(r) is outside the vocabulary 0..<\(vocab)")
        }
        let kept = targets.reduce(0) { $0 + ($1 == CrossEntropy.ignoreIndex ? 0 : 1) }
        let denominator = divisor ?? kept
        let rowScale = denominator == 0 ? 0 : gradScale / Float(denominator)
        var nll = [Double](repeating: 0, count: rows)
        let pz = logits.pointer
        targets.withUnsafeBufferPointer { tb in
            nll.withUnsafeMutableBufferPointer { nb in
                EngineThreads.forEachRowChunk(rows: rows, costPerRow: vocab) { range in
                    for r in range {
                        let z = pz + r * vocab, t = Int(tb[r])
                        guard t >= 0 else { z.update(repeating: 0, count: vocab); continue }
                        let zt = z[t]
                        let m = FastMath.max(z, vocab)
                        let s = FastMath.expShifted(z, z, vocab, shift: m)     // z_i <- exp(z_i - m)
                        nb[r] = Double(m + logf(s) - zt)
                        FastMath.scale(z, vocab, by: rowScale / s)             // softmax * scale / K
                        z[t] -= rowScale
                    }
                }
            }
        }
        let total = nll.reduce(0, +)   // row order: deterministic
        return (denominator == 0 ? 0 : Float(total / Double(denominator)), kept)
    }
}
