// The decoding kernel of MatVec.swift in sixteen-float vectors, compiled for AVX-512 (this target alone
// is built with `-target-cpu skylake-avx512`; `MatVec.kernel` calls it only on a CPU with those flags).
// It gives the eight-float kernel's bits exactly: that kernel keeps two eight-float chains per dot
// product, p_0 over the slices at i = 0, 16, 32, ... and p_1 over those at i = 8, 24, 40, ...; here one
// sixteen-float chain over the blocks at i = 0, 16, 32, ... holds p_0 in its low half and p_1 in its
// high half, each lane taking the same fused multiply-adds in the same order. The last 8-float slice
// goes to the low half (p_0), then treeSum(p_0 + p_1) and the scalar tail, as in MatVec.swift.
// y (n, out) = x (n, in) W^T (+ y), W (out, in).
// Its small helpers (treeSum, store, loads) repeat MatVec.swift's on purpose: everything in this module
// is compiled for AVX-512 and must never run on a CPU without it, so nothing here is shared with the
// modules compiled for Haswell.

public enum MatVecAVX512 {
    typealias V8 = SIMD8<Float>
    typealias V16 = SIMD16<Float>

    /// y[r * ldy + o] = sum_i x[r * k + i] W[o * k + i] (+ y[r * ldy + o] when `accumulate`), for rows
    /// r < n of x and weight rows o in `outputs`: `MatVec.kernelAVX2`'s loops and bits.
    @inline(never)
    public static func kernel(weight w: UnsafePointer<Float>, inFeatures k: Int, x: UnsafePointer<Float>, rows n: Int,
                              y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
        if n <= 4 {   // one weight row at a time against up to two rows of x
            for o in outputs {
                let wo = w + o * k
                var r = 0
                while r + 2 <= n {
                    let (a, b) = dot1x2(wo, x + r * k, x + (r + 1) * k, k)
                    store(a, y + r * ldy + o, accumulate); store(b, y + (r + 1) * ldy + o, accumulate)
                    r += 2
                }
                if r < n { store(dot(wo, x + r * k, k), y + r * ldy + o, accumulate) }
            }
            return
        }
        var o = outputs.lowerBound   // four weight rows against two rows of x: eight independent chains, which
        // keep both multiply-add units busy (two weight rows give four, bound by the multiply-add latency)
        while o + 4 <= outputs.upperBound {
            let w0 = w + o * k
            var r = 0
            while r + 2 <= n {
                let (a, b) = dot4x2(w0, k, x + r * k, x + (r + 1) * k)
                for j in 0..<4 {
                    store(a[j], y + r * ldy + o + j, accumulate); store(b[j], y + (r + 1) * ldy + o + j, accumulate)
                }
                r += 2
            }
            if r < n {
                for j in 0..<4 { store(dot(w0 + j * k, x + r * k, k), y + r * ldy + o + j, accumulate) }
            }
            o += 4
        }
        while o + 2 <= outputs.upperBound {   // two weight rows against two rows of x
            let w0 = w + o * k
            var r = 0
            while r + 2 <= n {
                let (a0, a1, b0, b1) = dot2x2(w0, w0 + k, x + r * k, x + (r + 1) * k, k)
                store(a0, y + r * ldy + o, accumulate); store(a1, y + r * ldy + o + 1, accumulate)
                store(b0, y + (r + 1) * ldy + o, accumulate); store(b1, y + (r + 1) * ldy + o + 1, accumulate)
                r += 2
            }
            if r < n {
                store(dot(w0, x + r * k, k), y + r * ldy + o, accumulate)
                store(dot(w0 + k, x + r * k, k), y + r * ldy + o + 1, accumulate)
            }
            o += 2
        }
        while o < outputs.upperBound {
            for r in 0..<n { store(dot(w + o * k, x + r * k, k), y + r * ldy + o, accumulate) }
            o += 1
        }
    }

    /// Dot products of weight rows w0, w1 with x0 (a) and x1 (b).
    @inline(__always)
    static func dot2x2(_ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ k: Int)
        -> (Float, Float, Float, Float) {
        var a0 = V16(), a1 = V16(), b0 = V16(), b1 = V16()
        var i = 0
        while i + 16 <= k {
            let u = load16(x0 + i), v = load16(x1 + i), c = load16(w0 + i), d = load16(w1 + i)
            a0 = a0.addingProduct(c, u); a1 = a1.addingProduct(d, u); b0 = b0.addingProduct(c, v); b1 = b1.addingProduct(d, v)
            i += 16
        }
        var la0 = a0.lowHalf, la1 = a1.lowHalf, lb0 = b0.lowHalf, lb1 = b1.lowHalf
        if i + 8 <= k {
            let u = load8(x0 + i), v = load8(x1 + i), c = load8(w0 + i), d = load8(w1 + i)
            la0 = la0.addingProduct(c, u); la1 = la1.addingProduct(d, u); lb0 = lb0.addingProduct(c, v); lb1 = lb1.addingProduct(d, v)
            i += 8
        }
        var ta0 = treeSum(la0 + a0.highHalf), ta1 = treeSum(la1 + a1.highHalf)
        var tb0 = treeSum(lb0 + b0.highHalf), tb1 = treeSum(lb1 + b1.highHalf)
        while i < k { ta0 += w0[i] * x0[i]; ta1 += w1[i] * x0[i]; tb0 += w0[i] * x1[i]; tb1 += w1[i] * x1[i]; i += 1 }
        return (ta0, ta1, tb0, tb1)
    }

    /// Dot products of the four weight rows at w (stride k) with x0 (a) and x1 (b).
    @inline(__always)
    static func dot4x2(_ w: UnsafePointer<Float>, _ k: Int, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>)
        -> (SIMD4<Float>, SIMD4<Float>) {
        let w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k
        var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16(), b0 = V16(), b1 = V16(), b2 = V16(), b3 = V16()
        var i = 0
        while i + 16 <= k {
            let u = load16(x0 + i), v = load16(x1 + i)
            let c0 = load16(w + i), c1 = load16(w1 + i), c2 = load16(w2 + i), c3 = load16(w3 + i)
            a0 = a0.addingProduct(c0, u); a1 = a1.addingProduct(c1, u); a2 = a2.addingProduct(c2, u); a3 = a3.addingProduct(c3, u)
            b0 = b0.addingProduct(c0, v); b1 = b1.addingProduct(c1, v); b2 = b2.addingProduct(c2, v); b3 = b3.addingProduct(c3, v)
            i += 16
        }
        var la0 = a0.lowHalf, la1 = a1.lowHalf, la2 = a2.lowHalf, la3 = a3.lowHalf
        var lb0 = b0.lowHalf, lb1 = b1.lowHalf, lb2 = b2.lowHalf, lb3 = b3.lowHalf
        if i + 8 <= k {
            let u = load8(x0 + i), v = load8(x1 + i)
            let c0 = load8(w + i), c1 = load8(w1 + i), c2 = load8(w2 + i), c3 = load8(w3 + i)
            la0 = la0.addingProduct(c0, u); la1 = la1.addingProduct(c1, u); la2 = la2.addingProduct(c2, u); la3 = la3.addingProduct(c3, u)
            lb0 = lb0.addingProduct(c0, v); lb1 = lb1.addingProduct(c1, v); lb2 = lb2.addingProduct(c2, v); lb3 = lb3.addingProduct(c3, v)
            i += 8
        }
        var a = SIMD4<Float>(treeSum(la0 + a0.highHalf), treeSum(la1 + a1.highHalf), treeSum(la2 + a2.highHalf), treeSum(la3 + a3.highHalf))
        var b = SIMD4<Float>(treeSum(lb0 + b0.highHalf), treeSum(lb1 + b1.highHalf), treeSum(lb2 + b2.highHalf), treeSum(lb3 + b3.highHalf))
        while i < k {
            a[0] += w[i] * x0[i]; a[1] += w1[i] * x0[i]; a[2] += w2[i] * x0[i]; a[3] += w3[i] * x0[i]
            b[0] += w[i] * x1[i]; b[1] += w1[i] * x1[i]; b[2] += w2[i] * x1[i]; b[3] += w3[i] * x1[i]
            i += 1
        }
        return (a, b)
    }

    /// Dot products of one weight row with x0 and x1.
    @inline(__always)
    static func dot1x2(_ w: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ k: Int) -> (Float, Float) {
        var a = V16(), b = V16()
        var i = 0
        while i + 16 <= k {
            let c = load16(w + i)
            a = a.addingProduct(c, load16(x0 + i)); b = b.addingProduct(c, load16(x1 + i))
            i += 16
        }
        var la = a.lowHalf, lb = b.lowHalf
        if i + 8 <= k { let c = load8(w + i); la = la.addingProduct(c, load8(x0 + i)); lb = lb.addingProduct(c, load8(x1 + i)); i += 8 }
        var ta = treeSum(la + a.highHalf), tb = treeSum(lb + b.highHalf)
        while i < k { ta += w[i] * x0[i]; tb += w[i] * x1[i]; i += 1 }
        return (ta, tb)
    }

    /// One dot product.
    @inline(__always)
    static func dot(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
        var a = V16()
        var i = 0
        while i + 16 <= k { a = a.addingProduct(load16(w + i), load16(x + i)); i += 16 }
        var low = a.lowHalf
        if i + 8 <= k { low = low.addingProduct(load8(w + i), load8(x + i)); i += 8 }
        var total = treeSum(low + a.highHalf)
        while i < k { total += w[i] * x[i]; i += 1 }
        return total
    }

    /// ((0 + 4) + (2 + 6)) + ((1 + 5) + (3 + 7)), as MatVec.treeSum.
    @inline(__always) static func treeSum(_ v: V8) -> Float {
        let quarter = v.lowHalf + v.highHalf
        let half = quarter.lowHalf + quarter.highHalf
        return half[0] + half[1]
    }

    @inline(__always) static func store(_ v: Float, _ p: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        p.pointee = accumulate ? p.pointee + v : v
    }

    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> V16 { UnsafeRawPointer(p).loadUnaligned(as: V16.self) }
}
