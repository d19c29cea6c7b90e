// bfloat16: the top 16 bits of an IEEE 754 binary32 (1 sign, 8 exponent, 7 mantissa bits), so it
// covers fp32's range with 8 significant bits. Widening is exact (the 16 bits shifted up); narrowing
// rounds to nearest, ties to even, on the bit pattern:
//   h = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
// which is IEEE round-to-nearest-even for normal and subnormal values alike (bf16 values are evenly
// spaced within each binade, subnormals included), carries into the exponent where the mantissa
// overflows, and gives +-inf for values past bf16's largest finite one by half an ulp or more. NaN
// stays NaN with its sign and top payload bits, made quiet (bit 6 set), so it never rounds to inf.
// `BF16Matrix` holds a frozen weight (out, in) this way; products widen it back to fp32.

public enum BFloat16 {
    /// The bf16 nearest `x` (ties to even), as its 16 bits.
    @inline(__always) public static func round(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// The fp32 value of bf16 bits `h` (exact).
    @inline(__always) public static func float(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// dst[i] = round(src[i]) for i < count.
    public static func round(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { dst[i] = round(src[i]) }
    }

    /// dst[i] = float(src[i]) for i < count (a loop LLVM vectorises: zero-extend, shift).
    @inline(__always)
    public static func widen(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        let bits = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { bits[i] = UInt32(src[i]) << 16 }
    }

    /// `widen` split over the engine's thread pool (inline when called from a pool thread).
    public static func widenInParallel(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int,
                                       pool: ThreadPool = .shared) {
        let chunk = 1 << 18
        guard count > chunk, pool.threads > 1 else { return widen(src, into: dst, count: count) }
        pool.forEach(chunks: (count + chunk - 1) / chunk) { c, _ in
            let lo = c * chunk
            widen(src + lo, into: dst + lo, count: min(chunk, count - lo))
        }
    }
}

/// A matrix (rows, inFeatures) held as bf16, row-major: half the bytes of fp32.
public final class BF16Matrix: @unchecked Sendable {
    public let rows: Int
    public let inFeatures: Int
    public let bits: UnsafeMutablePointer<UInt16>   // (rows, inFeatures)

    public var shape: [Int] { [rows, inFeatures] }
    public var count: Int { rows * inFeatures }
    public var byteCount: Int { count * MemoryLayout<UInt16>.stride }

    /// A zero matrix of `shape` (rows, inFeatures).
    public init(zeros shape: [Int]) throws {
        guard shape.count == 2, shape[0] > 0, shape[1] > 0 else { throw TensorError("BF16Matrix: expected a non-empty (rows, in) shape, got \(shape)") }
        rows = shape[0]; inFeatures = shape[1]
        let n = shape[0] * shape[1]
        bits = UnsafeMutableRawPointer.allocate(byteCount: n * 2, alignment: 64).bindMemory(to: UInt16.self, capacity: n)
        bits.initialize(repeating: 0, count: n)
    }

    /// `t` (rows, in) rounded to bf16, ties to even.
    public convenience init(rounding t: Tensor) throws {
        try self.init(zeros: t.shape)
        try assign(rounding: t)
    }

    deinit { UnsafeMutableRawPointer(bits).deallocate() }

    /// Overwrites every value with `t` (same shape) rounded to bf16.
    public func assign(rounding t: Tensor) throws {
        guard t.shape == shape else { throw TensorError("BF16Matrix: cannot assign a tensor of shape \(t.shape) to \(shape)") }
        BFloat16.round(t.pointer, into: bits, count: count)
    }

    /// Writes the fp32 values into `out` (same element count; exact), over the thread pool.
    public func widen(into out: Tensor) throws {
        guard out.count == count else { throw TensorError("BF16Matrix: cannot widen \(shape) into a tensor of shape \(out.shape)") }
        BFloat16.widenInParallel(bits, into: out.pointer, count: count)
    }

    /// A new fp32 tensor holding the values.
    public func widened() -> Tensor {
        let t = Tensor(zeros: shape)
        BFloat16.widen(bits, into: t.pointer, count: count)
        return t
    }
}
