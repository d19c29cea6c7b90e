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
        let n = slots.count, group = heads / (cache.width / d), width = cache.width
        let scale = 1 / Float(d).squareRoot()
        let work = positions.reduce(0) { $0 + Int($1) + 1 } * heads * d
        let tasks = n * heads
        // About four chunks per thread, one when the work is too small to share.
        let pool = ThreadPool.shared
        let chunks = work < 1 << 14 ? 1 : min(4 * pool.threads, tasks)
        func run(_ range: Range<Int>) {
            for task in range {
                let r = task / heads, h = task % heads, length = Int(positions[r]) + 1
                let keys = cache.keys(layer: layer, slot: slots[r]) + (h / group) * d
                let values = cache.values(layer: layer, slot: slots[r]) + (h / group) * d
                let qh = q + r * heads * d + h * d, oh = out + r * heads * d + h * d
                let s = scores + task * cache.capacity
                for t in 0..<length { s[t] = dot(qh, keys + t * width, d) * scale }
                let inv = 1 / SIMDMath.expInPlace(s, length).1
                oh.update(repeating: 0, count: d)
                for t in 0..<length { axpy(s[t] * inv, values + t * width, oh, d) }
            }
        }
        pool.forEach(chunks: chunks) { c, _ in run(tasks * c / chunks..<tasks * (c + 1) / chunks) }
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
