// The matrix-vector kernel over bf16 weights: y (n, out) = x (n, in) W^T (+ y), W a BF16Matrix, x
// and y fp32. Weight rows are widened (exactly) into an L1 tile of one or two rows and run through
// `MatVec.dot` / `dot1x2` / `dot2x2`, the fp32 kernel's own dot products, so every output is bit
// for bit what `MatVec.kernel` gives on the widened weights, whatever n or the split (as the 8-bit
// kernel, this runs for any n; the fp32 path switches to sgemm above `kernelRows`). A decoding step
// streams 2 bytes per weight instead of 4.
extension MatVec {
    public enum BF16 {
        /// y[r * ldy + o] = sum_i x[r * k + i] W[o, i] (+ y[r * ldy + o] when `accumulate`), for rows
        /// r < n of x and weight rows o in `outputs`.
        public static func kernel(weight w: BF16Matrix, x: UnsafePointer<Float>, rows n: Int,
                                  y: UnsafeMutablePointer<Float>, ldy: Int, outputs: Range<Int>, accumulate: Bool) {
            let k = w.inFeatures
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: 2 * k)   // (2, k), widened rows o, o + 1
            defer { tile.deallocate() }
            if n <= 4 {   // memory bound: one weight row at a time, as MatVec.kernel
                for o in outputs {
                    BFloat16.widen(w.bits + o * k, into: tile, count: k)
                    var r = 0
                    while r + 2 <= n {
                        let (a, b) = MatVec.dot1x2(tile, x + r * k, x + (r + 1) * k, k)
                        MatVec.store(a, y + r * ldy + o, accumulate)
                        MatVec.store(b, y + (r + 1) * ldy + o, accumulate)
                        r += 2
                    }
                    if r < n { MatVec.store(MatVec.dot(tile, x + r * k, k), y + r * ldy + o, accumulate) }
                }
                return
            }
            var o = outputs.lowerBound
            while o + 2 <= outputs.upperBound {
                BFloat16.widen(w.bits + o * k, into: tile, count: 2 * k)
                MatVec.outputPair(tile, k, x: x, rows: n, y: y, ldy: ldy, o: o, accumulate)
                o += 2
            }
            if o < outputs.upperBound {
                BFloat16.widen(w.bits + o * k, into: tile, count: k)
                for r in 0..<n { MatVec.store(MatVec.dot(tile, x + r * k, k), y + r * ldy + o, accumulate) }
            }
        }
    }
}
