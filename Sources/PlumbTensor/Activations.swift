// SiLU and SwiGLU (Shazeer 2020, "GLU Variants Improve Transformer"; Llama's FFN):
//   silu(z)    = z * sigmoid(z)
//   silu'(z)   = sigmoid(z) * (1 + z * (1 - sigmoid(z)))
//   swiglu(a, b) = silu(a) * b,  da += dOut * b * silu'(a),  db += dOut * silu(a)
// Loops run 8 lanes at a time with FastMath's exp; the scalar tail uses the same arithmetic. SwiGLU
// splits its groups of 8 across the cores (the FFN's (N, F) is 1.5M elements at 15m).

public enum Activations {
    typealias V8 = SIMD8<Float>

    /// out = silu(x); shapes equal. May run in place (out == x).
    public static func siluForward(_ x: Tensor, into out: Tensor) throws {
        try x.requireSameShape(out, "siluForward x vs out")
        let px = x.pointer, po = out.pointer, n = x.count
        var i = 0
        while i + 8 <= n {
            let z: V8 = FastMath.load(px + i)
            let s: V8 = FastMath.sigmoid8(z)
            FastMath.store(z * s, po + i)
            i += 8
        }
        while i < n { let z = px[i]; po[i] = z * FastMath.sigmoid(z); i += 1 }
    }

    /// dx += dOut * silu'(x).
    public static func siluBackward(dOut: Tensor, x: Tensor, dx: Tensor) throws {
        try dOut.requireSameShape(x, "siluBackward dOut vs x"); try dx.requireSameShape(x, "siluBackward dx vs x")
        let g = dOut.pointer, px = x.pointer, pd = dx.pointer
        for i in 0..<x.count {
            let z = px[i], s = FastMath.sigmoid(z)
            pd[i] += g[i] * s * (1 + z * (1 - s))
        }
    }

    /// out = silu(a) * b; a, b, out (N, F) or any equal shapes.
    public static func swigluForward(a: Tensor, b: Tensor, into out: Tensor) throws {
        let profiled = StepProfile.begin(.swiglu); defer { StepProfile.end(profiled) }
        try a.requireSameShape(b, "swigluForward a vs b"); try a.requireSameShape(out, "swigluForward a vs out")
        let pa = a.pointer, pb = b.pointer, po = out.pointer, n = a.count
        forEachGroupOf8(n) { i in
            let z: V8 = FastMath.load(pa + i), bi: V8 = FastMath.load(pb + i)
            let s: V8 = FastMath.sigmoid8(z)
            let silu: V8 = z * s
            FastMath.store(silu * bi, po + i)
        }
        for i in n / 8 * 8..<n { let z = pa[i]; po[i] = z * FastMath.sigmoid(z) * pb[i] }
    }

    /// da += dOut * b * silu'(a); db += dOut * silu(a).
    public static func swigluBackward(dOut: Tensor, a: Tensor, b: Tensor, da: Tensor, db: Tensor) throws {
        let profiled = StepProfile.begin(.swiglu); defer { StepProfile.end(profiled) }
        try a.requireSameShape(b, "swigluBackward a vs b"); try dOut.requireSameShape(a, "swigluBackward dOut vs a")
        try da.requireSameShape(a, "swigluBackward da"); try db.requireSameShape(b, "swigluBackward db")
        let g = dOut.pointer, pa = a.pointer, pb = b.pointer, pda = da.pointer, pdb = db.pointer, n = a.count
        let one = V8(repeating: 1)
        forEachGroupOf8(n) { i in
            let z: V8 = FastMath.load(pa + i), gi: V8 = FastMath.load(g + i), bi: V8 = FastMath.load(pb + i)
            let s: V8 = FastMath.sigmoid8(z)
            let silu: V8 = z * s
            let complement: V8 = one - s
            let slope: V8 = s * (one + z * complement)        // silu'(z)
            let gb: V8 = gi * bi
            let oldA: V8 = FastMath.load(pda + i), oldB: V8 = FastMath.load(pdb + i)
            FastMath.store(oldA + gb * slope, pda + i)
            FastMath.store(oldB + gi * silu, pdb + i)
        }
        for i in n / 8 * 8..<n {
            let z = pa[i], s = FastMath.sigmoid(z)
            pda[i] += g[i] * pb[i] * s * (1 + z * (1 - s))
            pdb[i] += g[i] * z * s
        }
    }

    /// Calls `body(i)` for i = 0, 8, 16, ... while i + 8 <= n, the groups split across the cores.
    /// Whole groups of 8 go to each thread, so every element takes the same (vector) path whatever
    /// the thread count; the caller handles the tail n / 8 * 8 ..< n.
    @inline(__always)
    static func forEachGroupOf8(_ n: Int, _ body: (Int) -> Void) {
        EngineThreads.forEachRowChunk(rows: n / 8, costPerRow: 64) { groups in
            for group in groups { body(group * 8) }
        }
    }
}
