// Softmax numerators for the decoding sampler, through PlumbTensor's FastMath (the project's one
// vector exp). Kept as a name of its own only because the sampler calls it; new code calls FastMath.
import PlumbTensor

enum SIMDMath {
    /// x_i <- exp(x_i - max x); returns (max, sum of the new x).
    @inline(__always) static func expInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> (Float, Float) {
        let m = FastMath.max(x, n)
        return (m, FastMath.expShifted(x, x, n, shift: m))
    }
}
