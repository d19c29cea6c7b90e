// Elementwise arithmetic on same-shape tensors. Each writes its destination; the `...InPlace` and
// `accumulate` forms are what backward passes use (gradients add up).

public enum Elementwise {
    /// out = a + b.
    public static func add(_ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        try a.requireSameShape(b, "add a vs b"); try a.requireSameShape(out, "add a vs out")
        let pa = a.pointer, pb = b.pointer, po = out.pointer
        for i in 0..<a.count { po[i] = pa[i] + pb[i] }
    }

    /// out = a * b (Hadamard product).
    public static func multiply(_ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        try a.requireSameShape(b, "multiply a vs b"); try a.requireSameShape(out, "multiply a vs out")
        let pa = a.pointer, pb = b.pointer, po = out.pointer
        for i in 0..<a.count { po[i] = pa[i] * pb[i] }
    }

    /// dst += alpha * src (BLAS axpy semantics; the residual stream and gradient accumulation).
    public static func accumulate(_ src: Tensor, into dst: Tensor, alpha: Float = 1) throws {
        try src.requireSameShape(dst, "accumulate src vs dst")
        let ps = src.pointer, pd = dst.pointer
        for i in 0..<src.count { pd[i] += alpha * ps[i] }
    }

    /// t *= factor.
    public static func scale(_ t: Tensor, by factor: Float) {
        let p = t.pointer
        for i in 0..<t.count { p[i] *= factor }
    }

    /// Backward of `multiply`: da += dOut * b, db += dOut * a (either may be nil).
    public static func multiplyBackward(dOut: Tensor, a: Tensor, b: Tensor, da: Tensor?, db: Tensor?) throws {
        try dOut.requireSameShape(a, "multiplyBackward dOut vs a"); try a.requireSameShape(b, "multiplyBackward a vs b")
        let g = dOut.pointer, pa = a.pointer, pb = b.pointer
        if let da {
            try da.requireSameShape(a, "multiplyBackward da"); let p = da.pointer
            for i in 0..<a.count { p[i] += g[i] * pb[i] }
        }
        if let db {
            try db.requireSameShape(b, "multiplyBackward db"); let p = db.pointer
            for i in 0..<b.count { p[i] += g[i] * pa[i] }
        }
    }
}
