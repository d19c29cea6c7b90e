// SiLU and SwiGLU (Shazeer 2020, "GLU Variants Improve Transformer"; Llama's FFN):
//   silu(z)    = z * sigmoid(z)
//   silu'(z)   = sigmoid(z) * (1 + z * (1 - sigmoid(z)))
//   swiglu(a, b) = silu(a) * b,  da += dOut * b * silu'(a),  db += dOut * silu(a)
import Foundation

public enum Activations {
    @inline(__always) static func sigmoid(_ z: Float) -> Float { 1 / (1 + expf(-z)) }

    /// out = silu(x); shapes equal. May run in place (out == x).
    public static func siluForward(_ x: Tensor, into out: Tensor) throws {
        try x.requireSameShape(out, "siluForward x vs out")
        let px = x.pointer, po = out.pointer
        for i in 0..<x.count { let z = px[i]; po[i] = z * sigmoid(z) }
    }

    /// dx += dOut * silu'(x).
    public static func siluBackward(dOut: Tensor, x: Tensor, dx: Tensor) throws {
        try dOut.requireSameShape(x, "siluBackward dOut vs x"); try dx.requireSameShape(x, "siluBackward dx vs x")
        let g = dOut.pointer, px = x.pointer, pd = dx.pointer
        for i in 0..<x.count {
            let z = px[i], s = sigmoid(z)
            pd[i] += g[i] * s * (1 + z * (1 - s))
        }
    }

    /// out = silu(a) * b; a, b, out (N, F) or any equal shapes.
    public static func swigluForward(a: Tensor, b: Tensor, into out: Tensor) throws {
        try a.requireSameShape(b, "swigluForward a vs b"); try a.requireSameShape(out, "swigluForward a vs out")
        let pa = a.pointer, pb = b.pointer, po = out.pointer
        for i in 0..<a.count { let z = pa[i]; po[i] = z * sigmoid(z) * pb[i] }
    }

    /// da += dOut * b * silu'(a); db += dOut * silu(a).
    public static func swigluBackward(dOut: Tensor, a: Tensor, b: Tensor, da: Tensor, db: Tensor) throws {
        try a.requireSameShape(b, "swigluBackward a vs b"); try dOut.requireSameShape(a, "swigluBackward dOut vs a")
        try da.requireSameShape(a, "swigluBackward da"); try db.requireSameShape(b, "swigluBackward db")
        let g = dOut.pointer, pa = a.pointer, pb = b.pointer, pda = da.pointer, pdb = db.pointer
        for i in 0..<a.count {
            let z = pa[i], s = sigmoid(z)
            pda[i] += g[i] * pb[i] * s * (1 + z * (1 - s))
            pdb[i] += g[i] * z * s
        }
    }
}
