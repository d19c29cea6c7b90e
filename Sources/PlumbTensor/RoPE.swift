// Rotary position embeddings (Su et al. 2021, RoFormer). Pair (x0, x1) of frequency index i at
// position p is rotated by angle a = p * theta^(-2i / D):
//   forward:  (x0, x1) -> (x0 cos a - x1 sin a,  x0 sin a + x1 cos a)
//   backward: the transpose rotation (by -a), added into dx.
// Two pair layouts, which checkpoints fix (the same weights need the matching layout):
//   adjacentPairs: pairs (2i, 2i+1)        Meta's original Llama, llama2.c
//   halves:        pairs (i, i + D/2)      Hugging Face `rotate_half`
import Foundation

public enum RoPELayout: String, Codable, CaseIterable, Sendable {
    case adjacentPairs
    case halves
}

/// cos and sin of every (position, frequency) pair, computed once in Double.
public struct RoPETable: Sendable {
    public let headDim: Int
    public let maxPositions: Int
    public let theta: Double
    let cosines: [Float]   // (maxPositions, headDim / 2)
    let sines: [Float]     // (maxPositions, headDim / 2)

    public init(headDim: Int, maxPositions: Int, theta: Double = 10000) throws {
        guard headDim > 0, headDim % 2 == 0 else { throw TensorError("RoPETable: head dimension \(headDim) must be even and positive") }
        guard maxPositions > 0, theta > 0 else { throw TensorError("RoPETable: maxPositions \(maxPositions) and theta \(theta) must be positive") }
        self.headDim = headDim; self.maxPositions = maxPositions; self.theta = theta
        let half = headDim / 2
        var c = [Float](repeating: 0, count: maxPositions * half), s = c
        for p in 0..<maxPositions {
            for i in 0..<half {
                let angle = Double(p) * pow(theta, -2 * Double(i) / Double(headDim))
                c[p * half + i] = Float(cos(angle)); s[p * half + i] = Float(sin(angle))
            }
        }
        cosines = c; sines = s
    }
}

public enum RoPE {
    /// out = rotate(x); x and out (..., H, D) with one position per token (leading dims flattened).
    /// May run in place (out == x).
    public static func forward(x: Tensor, positions: [Int32], table: RoPETable, layout: RoPELayout, out: Tensor) throws {
        let profiled = StepProfile.begin(.rope); defer { StepProfile.end(profiled) }
        try out.requireSameShape(x, "RoPE.forward out vs x")
        try rotate(source: x, positions: positions, table: table, layout: layout, destination: out, sign: 1, accumulate: false)
    }

    /// dx += rotate^T(dOut).
    public static func backward(dOut: Tensor, positions: [Int32], table: RoPETable, layout: RoPELayout, dx: Tensor) throws {
        let profiled = StepProfile.begin(.rope); defer { StepProfile.end(profiled) }
        try dx.requireSameShape(dOut, "RoPE.backward dx vs dOut")
        try rotate(source: dOut, positions: positions, table: table, layout: layout, destination: dx, sign: -1, accumulate: true)
    }

    private static func rotate(
        source: Tensor, positions: [Int32], table: RoPETable, layout: RoPELayout,
        destination: Tensor, sign: Float, accumulate: Bool
    ) throws {
        let d = table.headDim, half = d / 2
        let vectors = try source.rowCount(width: d, "RoPE x (head dim \(d))")
        guard !positions.isEmpty, vectors % positions.count == 0 else {
            throw TensorError("RoPE: \(vectors) head vectors in \(source.shape) do not split over \(positions.count) positions")
        }
        let heads = vectors / positions.count
        guard source.rank >= 2, source.shape[source.rank - 2] == heads else {
            throw TensorError("RoPE: x must be (..., heads, \(d)) with one position per token; got \(source.shape) for \(positions.count) positions")
        }
        for (n, p) in positions.enumerated() where p < 0 || Int(p) >= table.maxPositions {
            throw TensorError("RoPE: position \(p) of token \(n) is outside 0..<\(table.maxPositions)")
        }
        let (stride0, pairStride) = layout == .adjacentPairs ? (2, 1) : (1, half)
        let ps = source.pointer, pd = destination.pointer
        table.cosines.withUnsafeBufferPointer { cb in
            table.sines.withUnsafeBufferPointer { sb in
                positions.withUnsafeBufferPointer { pb in
                    // Tokens are independent (each writes its own rows): split them across the cores.
                    EngineThreads.forEachRowChunk(rows: pb.count, costPerRow: heads * d) { tokens in
                        for n in tokens {
                            let cr = cb.baseAddress! + Int(pb[n]) * half, sr = sb.baseAddress! + Int(pb[n]) * half
                            for h in 0..<heads {
                                rotateHead(ps + (n * heads + h) * d, pd + (n * heads + h) * d, cos: cr, sin: sr, half: half,
                                           stride0: stride0, pairStride: pairStride, sign: sign, accumulate: accumulate)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One head vector: pair i is (i * stride0, i * stride0 + pairStride).
    @inline(__always)
    private static func rotateHead(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, cos cr: UnsafePointer<Float>,
                                   sin sr: UnsafePointer<Float>, half: Int, stride0: Int, pairStride: Int, sign: Float, accumulate: Bool) {
        for i in 0..<half {
            let i0 = i * stride0, i1 = i0 + pairStride
            let c = cr[i], s = sign * sr[i]
            let x0 = src[i0], x1 = src[i1]
            let y0 = x0 * c - x1 * s, y1 = x0 * s + x1 * c
            if accumulate { dst[i0] += y0; dst[i1] += y1 } else { dst[i0] = y0; dst[i1] = y1 }
        }
    }
}
