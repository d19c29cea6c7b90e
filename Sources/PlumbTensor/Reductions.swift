// Reductions over whole tensors and over rows. Whole-tensor sums accumulate in Double so that
// results do not depend on summation order more than Float rounding of the inputs allows.

public enum Reductions {
    /// Sum of all elements.
    public static func sum(_ t: Tensor) -> Float {
        var acc = 0.0
        let p = t.pointer
        for i in 0..<t.count { acc += Double(p[i]) }
        return Float(acc)
    }

    /// Mean of all elements (0 for an empty tensor).
    public static func mean(_ t: Tensor) -> Float { t.count == 0 ? 0 : Float(Double(sum(t)) / Double(t.count)) }

    /// Sum of squares of all elements, in Double (used by global-norm clipping).
    public static func sumOfSquares(_ t: Tensor) -> Double {
        var acc = 0.0
        let p = t.pointer
        for i in 0..<t.count { let v = Double(p[i]); acc += v * v }
        return acc
    }

    /// Dot product of two same-shape tensors.
    public static func dot(_ a: Tensor, _ b: Tensor) throws -> Float {
        try a.requireSameShape(b, "dot a vs b")
        var acc = 0.0
        let pa = a.pointer, pb = b.pointer
        for i in 0..<a.count { acc += Double(pa[i]) * Double(pb[i]) }
        return Float(acc)
    }

    /// Largest element (-infinity for an empty tensor).
    public static func max(_ t: Tensor) -> Float {
        var best = -Float.infinity
        let p = t.pointer
        for i in 0..<t.count { best = Swift.max(best, p[i]) }
        return best
    }

    /// out[r] = sum over the last dimension of row r; x (..., C), out (...) with R = count / C entries.
    public static func rowSums(_ x: Tensor, into out: Tensor) throws {
        guard x.rank >= 1 else { throw TensorError("rowSums: x is a scalar") }
        let width = x.shape[x.rank - 1]
        let rows = try x.rowCount(width: width, "rowSums x")
        guard out.count == rows else { throw TensorError("rowSums: out has \(out.count) entries for \(rows) rows of \(x.shape)") }
        let px = x.pointer, po = out.pointer
        for r in 0..<rows {
            var acc: Float = 0
            for c in 0..<width { acc += px[r * width + c] }
            po[r] = acc
        }
    }
}
