// Attention of new query rows over a KV cache (model-specific, so it lives here, not in the engine).
//
// For a row of slot s at position p and query head h (kv head g = h / (H / KVH)):
//   a_t = softmax_t( q_h . k_{s,t,g} / sqrt(D) ),  t = 0..p      out_h = sum_t a_t v_{s,t,g}
// Keys at positions <= p must already be in the cache (the caller writes this step's keys first),
// which is also what makes several rows of one slot in one call (prefill) causal.
import Foundation
import PlumbTensor

enum CachedAttention {
    /// q (N, H * D) rotated queries; out (N, H * D); scores scratch (>= N * H * capacity floats).
    static func forward(q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                        slots: UnsafeBufferPointer<Int>, positions: UnsafeBufferPointer<Int32>,
                        cache: KVCache, layer: Int, heads: Int, headDim d: Int) {
        let n = slots.count, pool = ThreadPool.shared
        let work = positions.reduce(0) { $0 + Int($1) + 1 } * heads * d
        // A task is one row and all its heads (each position's keys and values read once, in order),
        // or, when there are too few rows to keep every thread busy, one row and a contiguous group
        // of heads (the largest that divides the heads and gives every thread a task).
        var headsPerTask = n >= 2 * pool.threads ? heads : max(1, heads / pool.threads)
        while heads % headsPerTask != 0 { headsPerTask -= 1 }
        let tasks = n * (heads / headsPerTask)
        let chunks = work < 1 << 14 ? 1 : min(4 * pool.threads, tasks)
        pool.forEach(chunks: chunks) { c, _ in
            for task in tasks * c / chunks..<tasks * (c + 1) / chunks {
                let r = task / (heads / headsPerTask), first = task % (heads / headsPerTask) * headsPerTask
                attend(row: r, heads: first..<first + headsPerTask, q: q, out: out, scores: scores, slot: slots[r],
                       length: Int(positions[r]) + 1, cache: cache, layer: layer, heads: heads, headDim: d)
            }
        }
    }

    /// Attention of one row's query heads `hs` over positions 0..<length of its slot.
    /// scores: the row's (H, capacity) block is scores + row * H * capacity.
    @inline(__always)
    static func attend(row r: Int, heads hs: Range<Int>, q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                       scores: UnsafeMutablePointer<Float>, slot: Int, length: Int, cache: KVCache, layer: Int, heads: Int, headDim d: Int) {
        let group = heads / (cache.width / d), width = cache.width, capacity = cache.capacity
        let scale = 1 / Float(d).squareRoot()
        let keys = cache.keys(layer: layer, slot: slot), values = cache.values(layer: layer, slot: slot)
        let qr = q + r * heads * d, or = out + r * heads * d, s = scores + r * heads * capacity
        for t in 0..<length {   // s_h,t = q_h . k_t,g / sqrt(D)
            let kt = keys + t * width
            for h in hs { s[h * capacity + t] = dot(qr + h * d, kt + (h / group) * d, d) * scale }
        }
        for h in hs {           // a_h = softmax(s_h)
            let sh = s + h * capacity
            let total = FastMath.expShifted(sh, sh, length, shift: FastMath.max(sh, length))
            FastMath.scale(sh, length, by: 1 / total)
            (or + h * d).update(repeating: 0, count: d)
        }
        for t in 0..<length {   // out_h = sum_t a_h,t v_t,g
            let vt = values + t * width
            for h in hs { axpy(s[h * capacity + t], vt + (h / group) * d, or + h * d, d) }
        }
    }

    /// sum_i a[i] b[i], eight lanes at a time.
    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = acc.sum()
        while i < n { total += a[i] * b[i]; i += 1 }
        return total
    }

    /// y += alpha * x, eight lanes at a time.
    @inline(__always) static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv + alpha * xv, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }
}
