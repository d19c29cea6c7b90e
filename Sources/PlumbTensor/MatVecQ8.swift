// The matrix-vector kernel over 8-bit weights (W8A32): y (n, out) = x (n, in) W^T (+ y), W a
// Q8Matrix, x and y fp32. The int8 weights are widened to fp32 inside the kernel, 8 at a time
// (vpmovsxbd + vcvtdq2ps on the Haswell target), never dequantised ahead into a buffer: a decoding
// step streams 1.125 bytes per weight instead of 4.
//
// The order of additions of every output (the same in `dot`, `dot1x2` and `dot2x2`, so that a row's
// output does not depend on how many rows are decoded with it, nor on the split):
//   per block b of 32: p_b = (q0 x0 + q2 x2) + (q1 x1 + q3 x3), 8 lanes, q_j x_j the j-th 8-slice
//   (each sum a multiply then one fused multiply-add);
//   acc = fma(p_b, d_b, acc) over blocks in order; output = treeSum(acc).
// One accumulator chain per output carries one fused multiply-add per 32 weights; the block sums are
// independent, so out-of-order execution overlaps them.
// `reference` is the oracle: Double accumulation of d * q * x.

extension MatVec {
    public enum Q8 {
        typealias V8 = SIMD8<Float>

        /// y[r * ldy + o] = sum_i x[r * k + i] d[o, i / 32] q[o, i] (+ y[r * ldy + o] when `accumulate`),
        /// for rows r < n of x and weight rows o in `outputs`; any n.
        @inline(__always)
        public static func kernel(weight w: Q8Matrix, x: UnsafePointer<Float>, rows n: Int,
                                  y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
            let k = w.inFeatures
            if n <= 4 {   // memory bound: one weight row at a time
                for o in outputs {
                    let q = w.quants + o * k, d = w.scales + o * (k / 32)
                    var r = 0
                    while r + 2 <= n {
                        let (a, b) = dot1x2(q, d, x + r * k, x + (r + 1) * k, k)
                        MatVec.store(a, y + r * ldy + o, accumulate)
                        MatVec.store(b, y + (r + 1) * ldy + o, accumulate)
                        r += 2
                    }
                    if r < n { MatVec.store(dot(q, d, x + r * k, k), y + r * ldy + o, accumulate) }
                }
                return
            }
            var o = outputs.lowerBound   // more rows: two weight rows widened once for two rows of x
            while o + 2 <= outputs.upperBound {
                let q0 = w.quants + o * k, d0 = w.scales + o * (k / 32)
                var r = 0
                while r + 2 <= n {
                    let (a0, a1, b0, b1) = dot2x2(q0, q0 + k, d0, d0 + k / 32, x + r * k, x + (r + 1) * k, k)
                    MatVec.store(a0, y + r * ldy + o, accumulate)
                    MatVec.store(a1, y + r * ldy + o + 1, accumulate)
                    MatVec.store(b0, y + (r + 1) * ldy + o, accumulate)
                    MatVec.store(b1, y + (r + 1) * ldy + o + 1, accumulate)
                    r += 2
                }
                if r < n {
                    MatVec.store(dot(q0, d0, x + r * k, k), y + r * ldy + o, accumulate)
                    MatVec.store(dot(q0 + k, d0 + k / 32, x + r * k, k), y + r * ldy + o + 1, accumulate)
                }
                o += 2
            }
            while o < outputs.upperBound {
                for r in 0..<n { MatVec.store(dot(w.quants + o * k, w.scales + o * (k / 32), x + r * k, k), y + r * ldy + o, accumulate) }
                o += 1
            }
        }

        /// The reference for `kernel`: every output a Double-accumulated sum of d * q * x.
        public static func reference(weight w: Q8Matrix, x: UnsafePointer<Float>, rows n: Int,
                                     y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
            let k = w.inFeatures
            for r in 0..<n {
                for o in outputs {
                    var acc = 0.0
                    for i in 0..<k { acc += Double(w.scales[(o * k + i) / 32]) * Double(w.quants[o * k + i]) * Double(x[r * k + i]) }
                    y[r * ldy + o] = Float(acc) + (accumulate ? y[r * ldy + o] : 0)
                }
            }
        }

        /// Eight int8 weights widened to fp32, lane by lane in the source: LLVM folds it into one
        /// vpmovsxbd (from memory) and one vcvtdq2ps. The generic vector conversions
        /// (`SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded:))`) are left as calls to stdlib
        /// specialisations inside this large kernel (measured: a third of decoding time in them).
        @inline(__always) static func widen(_ q: UnsafePointer<Int8>) -> V8 {
            let b = UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Int8>.self)
            return V8(Float(b[0]), Float(b[1]), Float(b[2]), Float(b[3]), Float(b[4]), Float(b[5]), Float(b[6]), Float(b[7]))
        }

        /// The unscaled 8-lane sum of one block of 32 widened weights c0..c3 against x.
        @inline(__always) static func blockSum(_ c0: V8, _ c1: V8, _ c2: V8, _ c3: V8, _ x: UnsafePointer<Float>) -> V8 {
            let p0 = (c0 * MatVec.load(x)).addingProduct(c2, MatVec.load(x + 16))
            let p1 = (c1 * MatVec.load(x + 8)).addingProduct(c3, MatVec.load(x + 24))
            return p0 + p1
        }

        /// One dot product in the order above.
        @inline(__always)
        static func dot(_ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
            var acc = V8()
            var b = 0, i = 0
            while i < k {
                let p = blockSum(widen(q + i), widen(q + i + 8), widen(q + i + 16), widen(q + i + 24), x + i)
                acc = acc.addingProduct(p, V8(repeating: d[b]))
                b += 1; i += 32
            }
            return MatVec.treeSum(acc)
        }

        /// One weight row against x0 (a) and x1 (b), each in the order above.
        @inline(__always)
        static func dot1x2(_ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
                           _ k: Int) -> (Float, Float) {
            var a = V8(), c = V8()
            var b = 0, i = 0
            while i < k {
                let w0 = widen(q + i), w1 = widen(q + i + 8), w2 = widen(q + i + 16), w3 = widen(q + i + 24)
                let s = V8(repeating: d[b])
                a = a.addingProduct(blockSum(w0, w1, w2, w3, x0 + i), s)
                c = c.addingProduct(blockSum(w0, w1, w2, w3, x1 + i), s)
                b += 1; i += 32
            }
            return (MatVec.treeSum(a), MatVec.treeSum(c))
        }

        /// Weight rows 0 and 1 against x0 (a0, a1) and x1 (b0, b1), each in the order above.
        @inline(__always)
        static func dot2x2(_ q0: UnsafePointer<Int8>, _ q1: UnsafePointer<Int8>, _ d0: UnsafePointer<Float>, _ d1: UnsafePointer<Float>,
                           _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ k: Int) -> (Float, Float, Float, Float) {
            var a0 = V8(), a1 = V8(), b0 = V8(), b1 = V8()
            var b = 0, i = 0
            while i < k {
                let u0 = widen(q0 + i), u1 = widen(q0 + i + 8), u2 = widen(q0 + i + 16), u3 = widen(q0 + i + 24)
                let v0 = widen(q1 + i), v1 = widen(q1 + i + 8), v2 = widen(q1 + i + 16), v3 = widen(q1 + i + 24)
                let s0 = V8(repeating: d0[b]), s1 = V8(repeating: d1[b])
                a0 = a0.addingProduct(blockSum(u0, u1, u2, u3, x0 + i), s0)
                a1 = a1.addingProduct(blockSum(v0, v1, v2, v3, x0 + i), s1)
                b0 = b0.addingProduct(blockSum(u0, u1, u2, u3, x1 + i), s0)
                b1 = b1.addingProduct(blockSum(v0, v1, v2, v3, x1 + i), s1)
                b += 1; i += 32
            }
            return (MatVec.treeSum(a0), MatVec.treeSum(a1), MatVec.treeSum(b0), MatVec.treeSum(b1))
        }
    }
}
