// Vectorised row primitives for the non-BLAS hot loops (softmax over a 32000-word vocabulary,
// attention rows, SwiGLU, the fused LM loss, decoding's attention and sampling): 8-wide exp, max,
// exp-and-sum. The project's one vector exp: it follows Cephes `expf` (S. Moshier): x = n ln2 + r
// with |r| <= ln2/2, exp(r) by a degree-6 polynomial, 2^n built in the exponent bits. Relative error
// within 4 ulp on [-87, 88] (tested against Foundation's exp); above 88 the input is clamped, below
// -87 (where e^x is subnormal) the result is 0, so exp(-inf) = 0 and masked logits drop out.
import Foundation

public enum FastMath {
    typealias V8 = SIMD8<Float>

    @usableFromInline static let expHigh: Float = 88.3762626647949
    @usableFromInline static let expLow: Float = -87.0

    /// exp of 8 lanes. Written one operation per line, with masks (`replace(with:where:)`) and bit
    /// casts only: `clamped` and Float->Int SIMD conversions compile to lane-by-lane loops
    /// (docs/engine.md), and long SIMD expressions with literals make the type checker take minutes.
    @inline(__always) @usableFromInline
    static func exp8(_ input: SIMD8<Float>) -> SIMD8<Float> {
        var x = input
        let low = V8(repeating: expLow), high = V8(repeating: expHigh)
        x.replace(with: low, where: x .< low)
        x.replace(with: high, where: x .> high)
        x.replace(with: low, where: x .!= x)   // NaN in, tiny out (callers never pass NaN)
        // n = round(x / ln2) by adding 1.5 * 2^23: the integer lands in the low mantissa bits.
        let magic = V8(repeating: 12_582_912), log2e = V8(repeating: 1.44269504088896341)
        let shifted: V8 = x * log2e + magic
        let n: V8 = shifted - magic
        let ln2High = V8(repeating: 0.693359375), ln2Low = V8(repeating: -2.12194440e-4)
        let r: V8 = (x - n * ln2High) - n * ln2Low
        var p = V8(repeating: 1.9875691500e-4)
        p = p * r + V8(repeating: 1.3981999507e-3)
        p = p * r + V8(repeating: 8.3334519073e-3)
        p = p * r + V8(repeating: 4.1665795894e-2)
        p = p * r + V8(repeating: 1.6666665459e-1)
        p = p * r + V8(repeating: 5.0000001201e-1)
        let r2: V8 = r * r
        let e: V8 = (p * r2 + r) + V8(repeating: 1)
        let nInt: SIMD8<Int32> = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- SIMD8<Int32>(repeating: 0x4B40_0000)
        let bits: SIMD8<Int32> = (nInt &+ SIMD8<Int32>(repeating: 127)) &<< SIMD8<Int32>(repeating: 23)
        var result: V8 = e * unsafeBitCast(bits, to: V8.self)
        result.replace(with: V8(repeating: 0), where: input .< low)   // the subnormal range (and -inf) gives 0
        return result
    }

    /// exp of one value, by the same polynomial as `exp8` (so tails of rows match their bodies).
    @inline(__always) public static func exp(_ x: Float) -> Float { exp8(V8(repeating: x))[0] }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
    @inline(__always) static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self) }

    /// Largest of x[0..<n] (-infinity when n == 0).
    @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0, best = -Float.infinity
        if n >= 8 {
            var m = load(x)
            i = 8
            while i + 8 <= n { let v = load(x + i); m.replace(with: v, where: v .> m); i += 8 }
            best = m.max()
        }
        while i < n { best = Swift.max(best, x[i]); i += 1 }
        return best
    }

    /// y[i] = exp(x[i] - shift) for i < n; returns the sum of the y (x and y may alias).
    @inline(__always)
    public static func expShifted(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        var acc = V8(repeating: 0), i = 0
        let s = V8(repeating: shift)
        while i + 8 <= n { let e = exp8(load(x + i) - s); store(e, y + i); acc += e; i += 8 }
        var total = acc.sum()
        while i < n { let e = exp(x[i] - shift); y[i] = e; total += e; i += 1 }
        return total
    }

    /// sum_i exp(x[i] - shift) for i < n, without storing.
    @inline(__always)
    public static func expSum(_ x: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
        var acc = V8(repeating: 0), i = 0
        let s = V8(repeating: shift)
        while i + 8 <= n { acc += exp8(load(x + i) - s); i += 8 }
        var total = acc.sum()
        while i < n { total += exp(x[i] - shift); i += 1 }
        return total
    }

    /// log sum_i exp(x[i]), stably around the maximum.
    @inline(__always)
    public static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let m = max(x, n)
        if m == -Float.infinity { return m }
        return m + logf(expSum(x, n, shift: m))
    }

    /// sum_i a[i] * b[i] for i < n, in 8 lane sums added at the end (not the serial order).
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V8(repeating: 0), i = 0
        while i + 8 <= n { acc.addProduct(load(a + i), load(b + i)); i += 8 }
        var total = acc.sum()
        while i < n { total += a[i] * b[i]; i += 1 }
        return total
    }

    /// y[i] += alpha * x[i] for i < n.
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let a = V8(repeating: alpha)
        while i + 8 <= n { store(load(y + i) + a * load(x + i), y + i); i += 8 }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// x[i] *= alpha for i < n.
    @inline(__always)
    public static func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by alpha: Float) {
        var i = 0
        let a = V8(repeating: alpha)
        while i + 8 <= n { store(load(x + i) * a, x + i); i += 8 }
        while i < n { x[i] *= alpha; i += 1 }
    }

    /// sigmoid(z) = 1 / (1 + exp(-z)) of 8 lanes.
    @inline(__always) @usableFromInline
    static func sigmoid8(_ z: SIMD8<Float>) -> SIMD8<Float> {
        let one = V8(repeating: 1)
        let e: V8 = exp8(-z)
        return one / (one + e)
    }

    /// sigmoid of one value, by the same arithmetic as `sigmoid8`.
    @inline(__always) public static func sigmoid(_ z: Float) -> Float { sigmoid8(V8(repeating: z))[0] }
}
