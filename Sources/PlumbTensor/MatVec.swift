// Matrix-vector products for decoding: y (n, out) = x (n, in) W^T (+ y), W (out, in), for a few
// rows n (one per sequence being decoded).
//
// Decoding one sequence is bound by memory bandwidth: each step streams every weight once (15m:
// 61 MB per token, more than the L3), while sgemm would pack all of W on every call. For up to four
// rows of x the kernel streams one weight row at a time (one sequential stream per core, faster than
// four interleaved ones: docs/model.md); for more rows it takes two weight rows (reused from L1)
// against two rows of x. Products accumulate with fused multiply-adds (vfmadd on the Haswell target).
// `MatVec.products` (MatVecProducts.swift) splits the weight rows over the cores.
// Each output is one dot product whose order of additions depends only on `in`, never on n or on
// the split: a sequence decoded alone or in a batch gets the same bits.
// `reference` is the test oracle (Double accumulation, llm.c `matmul_forward_naive`).
// On AVX-512 CPUs `kernel` runs the same loops in sixteen-float vectors (PlumbMatVecAVX512), whose
// lanes take the same multiply-adds in the same order: the same bits on every x86-64 machine.

import Foundation
#if arch(x86_64)
import PlumbMatVecAVX512
#endif

public enum MatVec {
    typealias V8 = SIMD8<Float>

    /// Whether `kernel` runs its sixteen-float build (PlumbMatVecAVX512, the same bits): on a CPU with
    /// the AVX-512 flags that build is compiled for, unless PLUMB_MATVEC=avx2 asks for the other.
    public static let usesAVX512: Bool = {
        #if arch(x86_64)
        let needed: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        return CPUFlags.current.isSuperset(of: needed) && ProcessInfo.processInfo.environment["PLUMB_MATVEC"] != "avx2"
        #else
        return false
        #endif
    }()

    /// y[r * ldy + o] = sum_i x[r * k + i] W[o * k + i] (+ y[r * ldy + o] when `accumulate`),
    /// for rows r < n of x and weight rows o in `outputs`.
    @inline(__always)
    public static func kernel(weight w: UnsafePointer<Float>, inFeatures k: Int, x: UnsafePointer<Float>, rows n: Int,
                              y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
        #if arch(x86_64)
        if usesAVX512 {
            MatVecAVX512.kernel(weight: w, inFeatures: k, x: x, rows: n, y: y, ldy: ldy, outputs: outputs, accumulate: accumulate)
            return
        }
        #endif
        kernelAVX2(weight: w, inFeatures: k, x: x, rows: n, y: y, ldy: ldy, outputs: outputs, accumulate: accumulate)
    }

    /// `kernel` in eight-float vectors (the Haswell target of every numeric module).
    @inline(__always)
    public static func kernelAVX2(weight w: UnsafePointer<Float>, inFeatures k: Int, x: UnsafePointer<Float>, rows n: Int,
                                  y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
        if n <= 4 {   // memory bound: one weight row at a time is one sequential stream
            for o in outputs {
                let wo = w + o * k
                var r = 0
                while r + 2 <= n {
                    let (a, b) = dot1x2(wo, x + r * k, x + (r + 1) * k, k)
                    store(a, y + r * ldy + o, accumulate)
                    store(b, y + (r + 1) * ldy + o, accumulate)
                    r += 2
                }
                if r < n { let a = dot(wo, x + r * k, k); store(a, y + r * ldy + o, accumulate) }
            }
            return
        }
        var o = outputs.lowerBound   // more rows: two weight rows (from L1) for two rows of x at a time
        while o + 2 <= outputs.upperBound {
            outputPair(w + o * k, k, x: x, rows: n, y: y, ldy: ldy, o: o, accumulate)
            o += 2
        }
        while o < outputs.upperBound {
            for r in 0..<n {
                let d = dot(w + o * k, x + r * k, k)
                store(d, y + r * ldy + o, accumulate)
            }
            o += 1
        }
    }

    /// Outputs o and o + 1 of rows 0..<n of x (n, k) into y (n, ldy), from the weight rows w0 (output o)
    /// and w0 + k (output o + 1): two rows of x at a time through `dot2x2`, an odd last row through
    /// `dot`. The fp32, bf16 and int8 kernels all end here, with their weight rows in fp32.
    @inline(__always)
    static func outputPair(_ w0: UnsafePointer<Float>, _ k: Int, x: UnsafePointer<Float>, rows n: Int,
                           y: UnsafeMutablePointer<Float>, ldy: Int, o: Int, _ accumulate: Bool) {
        var r = 0
        while r + 2 <= n {
            let (a0, a1, b0, b1) = dot2x2(w0, w0 + k, x + r * k, x + (r + 1) * k, k)
            store(a0, y + r * ldy + o, accumulate)
            store(a1, y + r * ldy + o + 1, accumulate)
            store(b0, y + (r + 1) * ldy + o, accumulate)
            store(b1, y + (r + 1) * ldy + o + 1, accumulate)
            r += 2
        }
        if r < n {
            let d0 = dot(w0, x + r * k, k), d1 = dot(w0 + k, x + r * k, k)
            store(d0, y + r * ldy + o, accumulate)
            store(d1, y + r * ldy + o + 1, accumulate)
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

    // The order of additions of every dot product w·x of length k (the same in `dot`, `dot1x2` and
    // `dot2x2`, so that a row's output never depends on how many rows are decoded with it):
    //   partial p_0 takes, by fused multiply-add in order of i, the 8-float slices at i = 0, 16, 32, ...
    //   and p_1 those at i = 8, 24, 40, ..., all below k rounded down to 8;
    //   dot = treeSum(p_0 + p_1), then the last k mod 8 products added in order.
    // Two independent chains per row hide the latency of the multiply-add, which bounds a single
    // chain's bandwidth; in exchange a block holds two weight rows rather than four, which costs the
    // compute-bound batched case (docs/model.md, "Decoding speed").

    /// Dot products of weight rows w0 and w1 with x0 (a) and x1 (b), each in the order above.
    @inline(__always)
    static func dot2x2(_ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ k: Int)
        -> (Float, Float, Float, Float) {
        var a00 = V8(), a01 = V8(), a10 = V8(), a11 = V8(), b00 = V8(), b01 = V8(), b10 = V8(), b11 = V8()
        var i = 0
        while i + 16 <= k {
            let u0 = load(x0 + i), u1 = load(x0 + i + 8), v0 = load(x1 + i), v1 = load(x1 + i + 8)
            let c0 = load(w0 + i), c1 = load(w0 + i + 8), d0 = load(w1 + i), d1 = load(w1 + i + 8)
            a00 = a00.addingProduct(c0, u0); a01 = a01.addingProduct(c1, u1); a10 = a10.addingProduct(d0, u0); a11 = a11.addingProduct(d1, u1)
            b00 = b00.addingProduct(c0, v0); b01 = b01.addingProduct(c1, v1); b10 = b10.addingProduct(d0, v0); b11 = b11.addingProduct(d1, v1)
            i += 16
        }
        if i + 8 <= k {
            let u = load(x0 + i), v = load(x1 + i), c = load(w0 + i), d = load(w1 + i)
            a00 = a00.addingProduct(c, u); a10 = a10.addingProduct(d, u); b00 = b00.addingProduct(c, v); b10 = b10.addingProduct(d, v)
            i += 8
        }
        var ta0 = treeSum(a00 + a01), ta1 = treeSum(a10 + a11), tb0 = treeSum(b00 + b01), tb1 = treeSum(b10 + b11)
        while i < k { ta0 += w0[i] * x0[i]; ta1 += w1[i] * x0[i]; tb0 += w0[i] * x1[i]; tb1 += w1[i] * x1[i]; i += 1 }
        return (ta0, ta1, tb0, tb1)
    }

    /// Dot products of one weight row with x0 and x1, each in the order above.
    @inline(__always)
    static func dot1x2(_ w: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ k: Int) -> (Float, Float) {
        var a0 = V8(), a1 = V8(), b0 = V8(), b1 = V8()
        var i = 0
        while i + 16 <= k {
            let c0 = load(w + i), c1 = load(w + i + 8)
            a0 = a0.addingProduct(c0, load(x0 + i)); a1 = a1.addingProduct(c1, load(x0 + i + 8))
            b0 = b0.addingProduct(c0, load(x1 + i)); b1 = b1.addingProduct(c1, load(x1 + i + 8))
            i += 16
        }
        if i + 8 <= k { let c = load(w + i); a0 = a0.addingProduct(c, load(x0 + i)); b0 = b0.addingProduct(c, load(x1 + i)); i += 8 }
        var ta = treeSum(a0 + a1), tb = treeSum(b0 + b1)
        while i < k { ta += w[i] * x0[i]; tb += w[i] * x1[i]; i += 1 }
        return (ta, tb)
    }

    /// One dot product in the order above.
    @inline(__always)
    static func dot(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
        var a0 = V8(), a1 = V8()
        var i = 0
        while i + 16 <= k {
            a0 = a0.addingProduct(load(w + i), load(x + i)); a1 = a1.addingProduct(load(w + i + 8), load(x + i + 8))
            i += 16
        }
        if i + 8 <= k { a0 = a0.addingProduct(load(w + i), load(x + i)); i += 8 }
        var total = treeSum(a0 + a1)
        while i < k { total += w[i] * x[i]; i += 1 }
        return total
    }

    /// The eight lanes summed as a tree, ((0 + 4) + (2 + 6)) + ((1 + 5) + (3 + 7)): three dependent
    /// adds, where `SIMD.sum()` compiles to seven in a row.
    @inline(__always) static func treeSum(_ v: V8) -> Float {
        let quarter = v.lowHalf + v.highHalf
        let half = quarter.lowHalf + quarter.highHalf
        return half[0] + half[1]
    }

    /// *p = v, or *p += v when `accumulate`.
    @inline(__always) static func store(_ v: Float, _ p: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        p.pointee = accumulate ? p.pointee + v : v
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
}
