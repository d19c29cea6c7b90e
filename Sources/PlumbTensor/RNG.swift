// The seeded random number generator, passed explicitly wherever randomness is needed:
// xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64, as the authors recommend.
// Its whole state is four words, Codable, so a run resumes with the exact same stream.
import Foundation

public struct SeededRNG: RandomNumberGenerator, Codable, Equatable, Sendable {
    // The four state words of xoshiro256**.
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        s0 = SeededRNG.splitMix64(&x); s1 = SeededRNG.splitMix64(&x)
        s2 = SeededRNG.splitMix64(&x); s3 = SeededRNG.splitMix64(&x)
    }

    /// SplitMix64 step (Steele, Lea & Flood 2014).
    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = SeededRNG.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = SeededRNG.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// A normal sample (Box-Muller; the second value of each pair is dropped so the state stays 4 words).
    public mutating func normal(mean: Double = 0, std: Double = 1) -> Double {
        let u1 = 1 - uniformDouble()   // (0, 1]: log is finite
        let u2 = uniformDouble()
        return mean + std * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Fills `t` with normal samples of the given standard deviation (weight initialisation).
    public mutating func fillNormal(_ t: Tensor, mean: Float = 0, std: Float) {
        let p = t.pointer
        for i in 0..<t.count { p[i] = Float(normal(mean: Double(mean), std: Double(std))) }
    }

    /// An index drawn with probability proportional to `weights[i]` (non-negative, not all zero).
    /// Inverse-CDF on one uniform draw; falls back to the last positive weight under rounding.
    public mutating func categorical(_ weights: UnsafeBufferPointer<Float>) throws -> Int {
        var total = 0.0
        for (i, w) in weights.enumerated() {
            guard w >= 0, w.isFinite else { throw TensorError("categorical: weight \(w) at index \(i) is negative or not finite") }
            total += Double(w)
        }
        guard total > 0 else { throw TensorError("categorical: all \(weights.count) weights are zero") }
        let target = uniformDouble() * total
        var acc = 0.0, last = 0
        for (i, w) in weights.enumerated() where w > 0 {
            acc += Double(w); last = i
            if target < acc { return i }
        }
        return last
    }

    /// `categorical` over an array.
    public mutating func categorical(_ weights: [Float]) throws -> Int {
        try weights.withUnsafeBufferPointer { try categorical($0) }
    }
}

extension SeededRNG {
    /// A generator with an explicit state (for reference test vectors); not all zero.
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        self.init(seed: 0)
        (s0, s1, s2, s3) = state
    }
}
