// Cross-entropy over logits (N, V) with integer targets; rows whose target is `ignoreIndex` (-1)
// contribute nothing (prompt tokens in SFT, padding).
//
//   log p(t | row) = logits[t] - logsumexp(logits)
//   meanLoss       L = -(1/K) sum_{r not ignored} log p(t_r | r),  K = number of non-ignored rows
//                  dlogits_r += (scale / K) * (softmax(logits_r) - onehot(t_r))
//   targetLogProbs lp_r = log p(t_r | r) per row (0 for ignored rows), for DPO / PPO, with
//                  dlogits_r += dlp_r * (onehot(t_r) - softmax(logits_r))
import Foundation

public enum CrossEntropy {
    /// The target value that marks a row as ignored.
    public static let ignoreIndex: Int32 = -1

    /// Mean negative log-likelihood over non-ignored rows. When `dLogits` is given, adds the gradient
    /// of `gradScale * loss` into it. `divisor` replaces K (e.g. the token count of the whole batch
    /// when this call sees one micro-batch). Returns the mean loss and K.
    @discardableResult
    public static func meanLoss(
        logits: Tensor, targets: [Int32], dLogits: Tensor? = nil, gradScale: Float = 1, divisor: Int? = nil
    ) throws -> (loss: Float, tokens: Int) {
        let (rows, vocab) = try check(logits: logits, targets: targets, "CrossEntropy.meanLoss")
        if let dLogits { try dLogits.requireSameShape(logits, "CrossEntropy.meanLoss dLogits vs logits") }
        let kept = targets.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
        let denominator = divisor ?? kept
        guard denominator > 0 || kept == 0 else { throw TensorError("CrossEntropy.meanLoss: divisor must be positive, got \(denominator)") }
        let rowScale = denominator == 0 ? 0 : gradScale / Float(denominator)
        var nll = [Double](repeating: 0, count: rows)
        let pl = logits.pointer, pd = dLogits?.pointer
        targets.withUnsafeBufferPointer { tb in
            nll.withUnsafeMutableBufferPointer { nb in
                EngineThreads.forEachRowChunk(rows: rows, costPerRow: vocab) { range in
                    let expRow = UnsafeMutablePointer<Float>.allocate(capacity: vocab)   // exp(x - max) of one row
                    defer { expRow.deallocate() }
                    for r in range where tb[r] != ignoreIndex {
                        let row = pl + r * vocab, t = Int(tb[r])
                        let m = FastMath.max(row, vocab)
                        let total = FastMath.expShifted(row, expRow, vocab, shift: m)
                        nb[r] = Double(m + logf(total) - row[t])
                        guard let pd else { continue }
                        let d = pd + r * vocab
                        FastMath.axpy(rowScale / total, expRow, d, vocab)   // += scale * softmax
                        d[t] -= rowScale
                    }
                }
            }
        }
        let total = nll.reduce(0, +)   // in row order: deterministic
        return (denominator == 0 ? 0 : Float(total / Double(denominator)), kept)
    }

    /// logProbs[r] = log p(targets[r] | logits[r]); 0 for ignored rows. logProbs has N entries.
    public static func targetLogProbs(logits: Tensor, targets: [Int32], into logProbs: Tensor) throws {
        let (rows, vocab) = try check(logits: logits, targets: targets, "CrossEntropy.targetLogProbs")
        guard logProbs.count == rows else { throw TensorError("CrossEntropy.targetLogProbs: logProbs has \(logProbs.count) entries for \(rows) rows") }
        let pl = logits.pointer, po = logProbs.pointer
        targets.withUnsafeBufferPointer { tb in
            EngineThreads.forEachRowChunk(rows: rows, costPerRow: vocab) { range in
                for r in range {
                    guard tb[r] != ignoreIndex else { po[r] = 0; continue }
                    let row = pl + r * vocab
                    po[r] = row[Int(tb[r])] - Softmax.logSumExp(row, vocab)
                }
            }
        }
    }

    /// dLogits[r] += dLogProbs[r] * (onehot(targets[r]) - softmax(logits[r])) for non-ignored rows.
    public static func targetLogProbsBackward(logits: Tensor, targets: [Int32], dLogProbs: Tensor, dLogits: Tensor) throws {
        let (rows, vocab) = try check(logits: logits, targets: targets, "CrossEntropy.targetLogProbsBackward")
        guard dLogProbs.count == rows else { throw TensorError("CrossEntropy.targetLogProbsBackward: dLogProbs has \(dLogProbs.count) entries for \(rows) rows") }
        try dLogits.requireSameShape(logits, "CrossEntropy.targetLogProbsBackward dLogits vs logits")
        let pl = logits.pointer, pg = dLogProbs.pointer, pd = dLogits.pointer
        targets.withUnsafeBufferPointer { tb in
            EngineThreads.forEachRowChunk(rows: rows, costPerRow: vocab) { range in
                let expRow = UnsafeMutablePointer<Float>.allocate(capacity: vocab)   // exp(x - max) of one row
                defer { expRow.deallocate() }
                for r in range where tb[r] != ignoreIndex && pg[r] != 0 {
                    let row = pl + r * vocab, d = pd + r * vocab, g = pg[r]
                    let m = FastMath.max(row, vocab)
                    let total = FastMath.expShifted(row, expRow, vocab, shift: m)
                    FastMath.axpy(-g / total, expRow, d, vocab)   // -= g * softmax
                    d[Int(tb[r])] += g
                }
            }
        }
    }

    /// (N, V) of `logits`, after checking that every target is in the vocabulary or ignored.
    static func check(logits: Tensor, targets: [Int32], _ what: String) throws -> (rows: Int, vocab: Int) {
        guard logits.rank >= 2 else { throw TensorError("\(what): logits must be (N, V), got \(logits.shape)") }
        let vocab = logits.shape[logits.rank - 1]
        let rows = try logits.rowCount(width: vocab, what)
        try requireCount(targets, rows, "\(what) targets for logits \(logits.shape)")
        for (r, t) in targets.enumerated() where t != ignoreIndex && (t < 0 || Int(t) >= vocab) {
            throw TensorError("\(what): target \(t) at row \(r) is outside the vocabulary 0..<\(vocab) (use \(ignoreIndex) to ignore a row)")
        }
        return (rows, vocab)
    }
}
