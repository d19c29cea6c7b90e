// Several products of one input, y_j (n, out_j) = x (n, in) W_j^T (+ y_j), in one job of the thread
// pool: q|k|v or gate|up of a decoding step cost one synchronisation, not three or two.
//
// The weight rows of every product are cut into chunks that the pool's threads take in turn, so
// each core streams its own part of the weights. A chunk runs
//   - `MatVec.kernel` when n <= `kernelRows` (W is read once for all rows, never packed), or
//   - one single-threaded sgemm on its block of weight rows when n is larger (compute bound; the
//     pool, not OpenBLAS, spreads the work, so OpenBLAS's threads never spin against the pool's).
// A product over 8-bit weights (`Q8Matrix`) always runs `MatVec.Q8.kernel`, and one over bf16 weights
// (`BF16Matrix`) `MatVec.BF16.kernel`, for any n.
// The kernels' outputs do not depend on n or on the split (sgemm's may, in the last bits).
import CBLAS

extension MatVec {
    /// One product of a group: y (n, outFeatures) = x W^T, or y += x W^T when `accumulate`.
    public struct Product {
        public let weight: UnsafePointer<Float>   // (outFeatures, in); unused when q8 is set
        public let q8: Q8Matrix?                  // (outFeatures, in) in 8 bits, or nil for fp32 weights
        public let bf16: BF16Matrix?              // (outFeatures, in) in bf16, or nil
        public let out: UnsafeMutablePointer<Float>   // (n, outFeatures)
        public let outFeatures: Int
        public let accumulate: Bool

        public init(weight: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, outFeatures: Int, accumulate: Bool = false) {
            self.weight = weight; self.q8 = nil; self.bf16 = nil; self.out = out; self.outFeatures = outFeatures; self.accumulate = accumulate
        }

        public init(q8: Q8Matrix, out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
            self.weight = UnsafePointer(q8.scales); self.q8 = q8; self.bf16 = nil; self.out = out; self.outFeatures = q8.rows; self.accumulate = accumulate
        }

        public init(bf16: BF16Matrix, out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
            self.weight = UnsafeRawPointer(bf16.bits).assumingMemoryBound(to: Float.self); self.q8 = nil; self.bf16 = bf16
            self.out = out; self.outFeatures = bf16.rows; self.accumulate = accumulate
        }

        var widensInKernel: Bool { q8 != nil || bf16 != nil }
    }

    /// Rows of x up to which the matrix-vector kernel is used; above, chunked sgemm. Up to 64 rows
    /// the kernel costs less CPU than sgemm (which packs the weights on every call) when the weights
    /// come from DRAM (docs/model.md, "Decoding speed"), and it keeps every row of a batch
    /// bit-identical to decoding it alone.
    public static let kernelRows = 64

    /// Computes every product of `products` from x (n, inFeatures), spread over `pool`.
    public static func products(x: UnsafePointer<Float>, rows n: Int, inFeatures k: Int, _ products: [Product],
                                pool: ThreadPool = .shared) {
        if n == 0 || products.isEmpty { return }
        let useKernel = n <= kernelRows
        let rowsPerChunk = products.map {
            $0.q8 != nil ? q8ChunkRows(inFeatures: k) : $0.bf16 != nil ? kernelChunkRows(inFeatures: k) * 2
                : useKernel ? kernelChunkRows(inFeatures: k) : gemmChunkRows($0.outFeatures, threads: pool.threads)
        }
        var firstChunk = [0]   // chunks of products 0..<j come before product j's
        for (p, rows) in zip(products, rowsPerChunk) { firstChunk.append(firstChunk.last! + (p.outFeatures + rows - 1) / rows) }
        func run(_ chunk: Int, _ thread: Int) {
            var j = 0
            while firstChunk[j + 1] <= chunk { j += 1 }
            let p = products[j], lo = (chunk - firstChunk[j]) * rowsPerChunk[j]
            let outputs = lo..<min(lo + rowsPerChunk[j], p.outFeatures)
            if let q8 = p.q8 {
                Q8.kernel(weight: q8, x: x, rows: n, y: p.out, ldy: p.outFeatures, outputs: outputs, accumulate: p.accumulate)
            } else if let bf16 = p.bf16 {
                BF16.kernel(weight: bf16, x: x, rows: n, y: p.out, ldy: p.outFeatures, outputs: outputs, accumulate: p.accumulate)
            } else if useKernel {
                kernel(weight: p.weight, inFeatures: k, x: x, rows: n, y: p.out, ldy: p.outFeatures, outputs: outputs, accumulate: p.accumulate)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(outputs.count), Int32(k), 1,
                            x, Int32(k), p.weight + outputs.lowerBound * k, Int32(k),
                            p.accumulate ? 1 : 0, p.out + outputs.lowerBound, Int32(p.outFeatures))
            }
        }
        if useKernel || products.allSatisfy(\.widensInKernel) {
            pool.forEach(chunks: firstChunk.last!, run)
        } else {
            ThreadPool.withSingleThreadedBLAS { pool.forEach(chunks: firstChunk.last!, run) }
        }
    }

    /// About 64 KB of weights per chunk, a multiple of four rows.
    static func kernelChunkRows(inFeatures k: Int) -> Int { max(4, 16_384 / max(k, 1) / 4 * 4) }

    /// About 64 KB of 8-bit weights per chunk, a multiple of four rows.
    static func q8ChunkRows(inFeatures k: Int) -> Int { max(4, 65_536 / max(k, 1) / 4 * 4) }

    /// About four chunks per thread, a multiple of 16 rows, between 64 and 1024 rows.
    static func gemmChunkRows(_ outFeatures: Int, threads: Int) -> Int {
        let even = (outFeatures / (4 * threads) + 15) / 16 * 16
        return min(1024, max(64, even))
    }
}
