// Small vector kernels of the model's hot loops (loss, sampling, cached attention), eight lanes at a
// time. LOCAL: the engine has no vector exp yet (the lead is told).
import Foundation

enum SIMDMath {
    /// x_i <- exp(x_i - max x); returns (max, sum of the new x).
    @inline(__always) static func expInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> (Float, Float) {
        var mv = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= n { let v = load(x + i); mv = mv.replacing(with: v, where: v .> mv); i += 8 }
        var m = mv.max()
        while i < n { m = max(m, x[i]); i += 1 }
        var sv = SIMD8<Float>()
        let mb = SIMD8<Float>(repeating: m)
        i = 0
        while i + 8 <= n {
            let e = exp8(load(x + i) - mb)
            store(e, x + i); sv += e; i += 8
        }
        var s = sv.sum()
        while i < n { let e = expf(x[i] - m); x[i] = e; s += e; i += 1 }
        return (m, s)
    }

    @inline(__always) static func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by a: Float) {
        var i = 0
        while i + 8 <= n { store(load(x + i) * a, x + i); i += 8 }
        while i < n { x[i] *= a; i += 1 }
    }

    /// e^x for x <= 0 (Cephes expf scheme): x = k ln2 + r, |r| <= ln2/2, e^r by a degree-6
    /// polynomial, 2^k through the exponent bits; below -87.3 the result is 0. Relative error < 2e-7.
    @inline(__always) static func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let floor = SIMD8<Float>(repeating: -87.3)
        let clamped = x.replacing(with: floor, where: x .< floor)
        // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits
        // (generic SIMD rounding and Float -> Int32 conversions are not vectorised by the compiler).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let k = shifted - magic
        let kInt = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let r = clamped - k * 0.693_359_375 + k * 2.121_944_4e-4   // ln2 split in two for exactness
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5e-1
        let er = p * r * r + r + 1
        let twoK = unsafeBitCast((kInt &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (er * twoK).replacing(with: 0, where: x .< floor)
    }

    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}
