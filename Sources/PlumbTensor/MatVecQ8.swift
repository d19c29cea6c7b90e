// The matrix-vector kernel over 8-bit weights (W8A32): y (n, out) = x (n, in) W^T (+ y), W a
// Q8Matrix, x and y fp32. The int8 weights are widened to fp32 inside the kernel, 8 at a time
// (vpmovsxbd + vcvtdq2ps on the Haswell target) and multiplied by their block's scale, never
// dequantised ahead into a weight-sized buffer: a decoding step streams 1.125 bytes per weight
// instead of 4.
//
// Each weight d * q is exact in fp32 (d is an fp16 value, 11 significant bits; |q| <= 127, 7 bits),
// and every output is accumulated in exactly the order of `MatVec.kernel` (two multiply-add chains
// over alternate 8-slices, then `treeSum`). So this kernel's outputs are bit for bit those of the
// fp32 kernel on the dequantised weights, and, as there, a row's outputs do not depend on n or on
// the split:
//   - up to four rows: one weight row at a time, dequantised in registers (one sequential stream);
//   - more rows: two weight rows at a time dequantised once into an L1 tile (2, k) and run through
//     the fp32 2 x 2 block against every pair of x rows, so the widening is paid once per weight.
// `reference` is the oracle: Double accumulation of d * q * x.

extension MatVec {
    public enum Q8 {
        typealias V8 = SIMD8<Float>

        /// y[r * ldy + o] = sum_i x[r * k + i] d[o, i / 32] q[o, i] (+ y[r * ldy + o] when `accumulate`),
        /// for rows r < n of x and weight rows o in `outputs`; any n.
        @inline(__always)
        public static func kernel(weight w: Q8Matrix, x: UnsafePointer<Float>, rows n: Int,
                                  y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
            let k = w.inFeatures, blocks = k / 32
            if n <= 4 {   // memory bound: one weight row at a time
                for o in outputs {
                    let q = w.quants + o * k, d = w.scales + o * blocks
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
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: 2 * k)   // (2, k), dequantised rows o, o + 1
            defer { tile.deallocate() }
            var o = outputs.lowerBound
            while o + 2 <= outputs.upperBound {
                dequantiseRow(w.quants + o * k, w.scales + o * blocks, into: tile, k)
                dequantiseRow(w.quants + (o + 1) * k, w.scales + (o + 1) * blocks, into: tile + k, k)
                MatVec.outputPair(tile, k, x: x, rows: n, y: y, ldy: ldy, o: o, accumulate)
                o += 2
            }
            if o < outputs.upperBound {
                for r in 0..<n { MatVec.store(dot(w.quants + o * k, w.scales + o * blocks, x + r * k, k), y + r * ldy + o, accumulate) }
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
        /// (`SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded:))`) stayed calls to stdlib specialisations
        /// inside this kernel (a third of decoding time, measured with perf).
        @inline(__always) static func widen(_ q: UnsafePointer<Int8>) -> V8 {
            let b = UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Int8>.self)
            return V8(Float(b[0]), Float(b[1]), Float(b[2]), Float(b[3]), Float(b[4]), Float(b[5]), Float(b[6]), Float(b[7]))
        }

        /// A row of k weights dequantised (d * q, exact) into `out`.
        @inline(__always)
        static func dequantiseRow(_ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ k: Int) {
            var i = 0
            while i < k {
                let s = V8(repeating: d[i / 32])
                UnsafeMutableRawPointer(out + i).storeBytes(of: widen(q + i) * s, as: V8.self)
                i += 8
            }
        }

        /// One dot product in `MatVec.dot`'s order, weights dequantised in registers (k % 32 == 0).
        @inline(__always)
        static func dot(_ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ k: Int) -> Float {
            var a0 = V8(), a1 = V8()
            var i = 0
            while i < k {
                let s = V8(repeating: d[i / 32])
                a0 = a0.addingProduct(widen(q + i) * s, MatVec.load(x + i))
                a1 = a1.addingProduct(widen(q + i + 8) * s, MatVec.load(x + i + 8))
                i += 16
            }
            return MatVec.treeSum(a0 + a1)
        }

        /// One weight row against x0 (a) and x1 (b), each in `MatVec.dot`'s order.
        @inline(__always)
        static func dot1x2(_ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
                           _ k: Int) -> (Float, Float) {
            var a0 = V8(), a1 = V8(), b0 = V8(), b1 = V8()
            var i = 0
            while i < k {
                let s = V8(repeating: d[i / 32])
                let c0 = widen(q + i) * s, c1 = widen(q + i + 8) * s
                a0 = a0.addingProduct(c0, MatVec.load(x0 + i)); a1 = a1.addingProduct(c1, MatVec.load(x0 + i + 8))
                b0 = b0.addingProduct(c0, MatVec.load(x1 + i)); b1 = b1.addingProduct(c1, MatVec.load(x1 + i + 8))
                i += 16
            }
            return (MatVec.treeSum(a0 + a1), MatVec.treeSum(b0 + b1))
        }
    }
}
