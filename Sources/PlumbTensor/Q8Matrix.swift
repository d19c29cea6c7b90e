// An 8-bit weight matrix for decoding (W8A32): each row of W (out, in) is cut into blocks of 32
// values, stored as 32 int8 q and one scale d, and W[o, i] ~ d[o, i / 32] * q[o, i].
//
// Quantisation is GGUF's Q8_0 (ggml `quantize_row_q8_0_ref`): d = max |x| / 127 over the block,
// q = round(x / d) (halves away from zero), and d stored as fp16. The scale is kept here as the
// fp32 value of that fp16, so these weights are exactly the weights of a Q8_0 GGUF export.
// A row length not divisible by 32 cannot be held (`canQuantise`); callers keep such weights in fp32.

public final class Q8Matrix: @unchecked Sendable {
    public static let blockSize = 32
    public let rows: Int
    public let inFeatures: Int
    public let quants: UnsafeMutablePointer<Int8>   // (rows, in)
    public let scales: UnsafeMutablePointer<Float>  // (rows, in / 32), each an fp16 value

    public static func canQuantise(inFeatures k: Int) -> Bool { k > 0 && k % blockSize == 0 }

    /// Quantises w (rows, inFeatures), row-major.
    public init(quantising w: UnsafePointer<Float>, rows: Int, inFeatures k: Int) throws {
        guard rows > 0, Q8Matrix.canQuantise(inFeatures: k) else {
            throw TensorError("Q8Matrix: a (\(rows), \(k)) matrix needs rows > 0 and a row length divisible by \(Q8Matrix.blockSize)")
        }
        self.rows = rows; self.inFeatures = k
        quants = UnsafeMutableRawPointer.allocate(byteCount: rows * k, alignment: 64).bindMemory(to: Int8.self, capacity: rows * k)
        let blocks = rows * k / Q8Matrix.blockSize
        scales = UnsafeMutableRawPointer.allocate(byteCount: blocks * 4, alignment: 64).bindMemory(to: Float.self, capacity: blocks)
        for b in 0..<blocks {
            Q8Matrix.quantiseBlock(w + b * Q8Matrix.blockSize, q: quants + b * Q8Matrix.blockSize, scale: scales + b)
        }
    }

    /// Quantises a (rows, in) tensor.
    public convenience init(quantising t: Tensor) throws {
        guard t.rank == 2 else { throw TensorError("Q8Matrix: expected a matrix, got shape \(t.shape)") }
        try self.init(quantising: t.pointer, rows: t.shape[0], inFeatures: t.shape[1])
    }

    deinit {
        UnsafeMutableRawPointer(quants).deallocate()
        UnsafeMutableRawPointer(scales).deallocate()
    }

    /// Bytes that one pass over the weights reads (int8 values and fp32 scales).
    public var byteCount: Int { rows * inFeatures + rows * inFeatures / Q8Matrix.blockSize * 4 }

    /// One block of 32 floats to (q, d) as ggml's Q8_0 reference: d = amax / 127 (stored as fp16),
    /// q = round(x * (1 / d)) with the fp32 d, as ggml computes it; an all-zero block has d = 0, q = 0.
    @inline(__always)
    public static func quantiseBlock(_ x: UnsafePointer<Float>, q: UnsafeMutablePointer<Int8>, scale: UnsafeMutablePointer<Float>) {
        var amax: Float = 0
        for j in 0..<blockSize { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let inverse: Float = d == 0 ? 0 : 1 / d
        for j in 0..<blockSize { q[j] = Int8((x[j] * inverse).rounded()) }
        scale.pointee = Float(Float16(d))
    }

    /// Row `o` dequantised (d * q), for tests and checks.
    public func dequantisedRow(_ o: Int) -> [Float] {
        (0..<inFeatures).map { i in scales[(o * inFeatures + i) / Q8Matrix.blockSize] * Float(quants[o * inFeatures + i]) }
    }
}
