// Matrix-vector products for decoding: y (n, out) = x (n, in) W^T (+ y), W (out, in), for a few
// rows n (one per sequence being decoded).
//
// Decoding one sequence is bound by memory bandwidth: each step streams every weight once (15m:
// 61 MB per token, more than the L3), while sgemm would pack all of W on every call. For up to four
// rows of x the kernel streams one weight row at a time (one sequential stream per core measured
// ~1.4x faster than four interleaved ones); for more rows it takes four weight rows (reused from L1)
// against two rows of x. Products accumulate with fused multiply-adds (vfmadd on the Haswell target).
// `MatVec.products` (MatVecProducts.swift) splits the weight rows over the cores.
// Each output is one dot product whose order of additions depends only on `in`, never on n or on
// the split: a sequence decoded alone or in a batch gets the same bits.
// `reference` is the test oracle (Double accumulation, llm.c `matmul_forward_naive`).

public enum MatVec {
    typealias V8 = SIMD8<Float>

    /// y[r * ldy + o] = sum_i x[r * k + i] W[o * k + i] (+ y[r * ldy + o] when `accumulate`),
    /// for rows r < n of x and weight rows o in `outputs`.
    @inline(__always)
    public static func kernel(weight w: UnsafePointer<Float>, inFeatures k: Int, x: UnsafePointer<Float>, rows n: Int,
                              y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
        if n <= 4 {   // memory bound: one weight row at a time is one sequential stream (~1.4x faster than four)
            for o in outputs {
                let wo = w + o * k
                var r = 0
                while r + 2 <= n {
                    let (a, b) = dot1x2(wo, x + r * k, x + (r + 1) * k, k)
                    y[r * ldy + o] = accumulate ? y[r * ldy + o] + a : a
                    y[(r + 1) * ldy + o] = accumulate ? y[(r + 1) * ldy + o] + b : b
                    r += 2
                }
                if r < n { let a = dot(wo, x + r * k, k); y[r * ldy + o] = accumulate ? y[r * ldy + o] + a : a }
            }
            return
        }
        var o = outputs.lowerBound   // more rows: four weight rows (from L1) for two rows of x at a time
        while o + 4 <= outputs.upperBound {
            let w0 = w + o * k
            var r = 0
            while r + 2 <= n {
                let (a, b) = dot4x2(w0, k, x + r * k, x + (r + 1) * k)
                write(a, y + r * ldy + o, accumulate)
                write(b, y + (r + 1) * ldy + o, accumulate)
                r += 2
            }
            if r < n { write(dot4x2(w0, k, x + r * k, nil).0, y + r * ldy + o, accumulate) }
            o += 4
        }
        while o < outputs.upperBound {
            for r in 0..<n {
                let d = dot(w + o * k, x + r * k, k)
                y[r * ldy + o] = accumulate ? y[r * ldy + o] + d : d
            }
            o += 1
        }
    }

    /// The reference for `kernel`: every output a Double-accumulated dot product.
    public static func reference(weight w: UnsafePointer<Float>, inFeatures k: Int, x: UnsafePointer<Float>, rows n: Int,
                                 y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
        for r in 0..<n {
            for o in outputs {
                var acc = 0.0
                for i in 0..<k { acc += Double(w[o * k + i]) * Double(x[r * k + i]) }
                y[r * ldy + o] = Float(acc) + (accumulate ? y[r * ldy + o] : 0)
            }
        }
    }

    /// Dot products of weight rows w0..w0+3 (stride k) with x0 and, when given, x1.
    @inline(__always)
    static func dot4x2(_ w0: UnsafePointer<Float>, _ k: Int, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>?)
        -> (SIMD4<Float>, SIMD4<Float>) {
        let w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
        var a0 = V8(), a1 = V8(), a2 = V8(), a3 = V8()
        var b0 = V8(), b1 = V8(), b2 = V8(), b3 = V8()
        var i = 0
        if let x1 {
            while i + 8 <= k {
                let u = load(x0 + i), v = load(x1 + i)
                let c0 = load(w0 + i), c1 = load(w1 + i), c2 = load(w2 + i), c3 = load(w3 + i)
                a0 = a0.addingProduct(c0, u); a1 = a1.addingProduct(c1, u); a2 = a2.addingProduct(c2, u); a3 = a3.addingProduct(c3, u)
                b0 = b0.addingProduct(c0, v); b1 = b1.addingProduct(c1, v); b2 = b2.addingProduct(c2, v); b3 = b3.addingProduct(c3, v)
                i += 8
            }
        } else {
            while i + 8 <= k {
                let u = load(x0 + i)
                a0 = a0.addingProduct(load(w0 + i), u); a1 = a1.addingProduct(load(w1 + i), u); a2 = a2.addingProduct(load(w2 + i), u); a3 = a3.addingProduct(load(w3 + i), u)
                i += 8
            }
        }
        var a = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
        var b = SIMD4<Float>(b0.sum(), b1.sum(), b2.sum(), b3.sum())
        while i < k {   // tail when k is not a multiple of 8 (same order as `dot`)
            let c = SIMD4<Float>(w0[i], w1[i], w2[i], w3[i])
            a += c * x0[i]
            if let x1 { b += c * x1[i] }
            i += 1
        }
        return (a, b)
    }

    /// Dot products of one weight row with x0 and x1, each in the order of `dot`.
    @inline(__always)
    static func dot1x2(_ w: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ k: Int) -> (Float, Float) {
        var a = V8(), b = V8()
        var i = 0
        while i + 8 <= k { let c = load(w + i); a = a.addingProduct(c, load(x0 + i)); b = b.addingProduct(c, load(x1 + i)); i += 8 }
        var ta = a.sum(), tb = b.sum()
        while i < k { ta += w[i] * x0[i]; tb += w[i] * x1[i]; i += 1 }
        return (ta, tb)
    }

    /// One dot product in the same order of additions as one lane of `dot4x2`.
    @inline(__always)
    static func dot(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
        var acc = V8()
        var i = 0
        while i + 8 <= k { acc = acc.addingProduct(load(w + i), load(x + i)); i += 8 }
        var total = acc.sum()
        while i < k { total += w[i] * x[i]; i += 1 }
        return total
    }

    @inline(__always) static func write(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        let old = accumulate ? SIMD4<Float>(p[0], p[1], p[2], p[3]) : SIMD4<Float>()
        let sum = old + v
        p[0] = sum[0]; p[1] = sum[1]; p[2] = sum[2]; p[3] = sum[3]
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
}
