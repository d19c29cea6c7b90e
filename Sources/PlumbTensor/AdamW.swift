// AdamW (Loshchilov & Hutter 2019, decoupled weight decay), step for step as PyTorch's
// `torch.optim.AdamW` (single-tensor path), for each trainable parameter at step t = 1, 2, ...:
//   p  <- p * (1 - lr * wd)                     only where the parameter's weightDecay flag is set
//   m  <- b1 m + (1 - b1) g
//   v  <- b2 v + (1 - b2) g^2
//   p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// where g is the stored gradient times `gradientScale` (1 unless clipping is folded in: see
// `update(_:learningRate:clippingTo:)`, which reads the gradients once for the norm and once here,
// instead of a third time to scale them in place first).
// m and v live in two arenas laid out like the ParameterSet's, so entry offsets index them.
import Foundation

public struct AdamWConfig: Codable, Equatable, Sendable {
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float

    /// Defaults are Llama 2's published settings (METHODS.md section 2), eps 1e-8 as PyTorch.
    public init(beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8, weightDecay: Float = 0.1) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }
}

public final class AdamW: @unchecked Sendable {
    public let config: AdamWConfig
    /// Number of updates taken so far.
    public internal(set) var step: Int = 0
    let m: TensorStorage   // first moment, (totalCount) like the parameter arena
    let v: TensorStorage   // second moment, (totalCount)

    public init(parameters: ParameterSet, config: AdamWConfig = AdamWConfig()) {
        self.config = config
        m = TensorStorage(count: parameters.totalCount)
        v = TensorStorage(count: parameters.totalCount)
    }

    /// Clips and steps in two passes over the gradients: their global norm, then the update with the
    /// gradients times clip_grad_norm_'s factor (GradientClipping.factor). The same bits in the
    /// parameters and moments as `GradientClipping.clip` then `update`, but the gradient arena keeps
    /// the unclipped values. Returns the norm before clipping.
    @discardableResult
    public func update(_ parameters: ParameterSet, learningRate lr: Float, clippingTo maxNorm: Float) throws -> Float {
        let norm = GradientClipping.globalNorm(parameters)
        try update(parameters, learningRate: lr, gradientScale: GradientClipping.factor(norm: norm, maxNorm: maxNorm))
        return norm
    }

    /// One update of every trainable parameter from its gradient times `gradientScale`, at learning
    /// rate `learningRate`.
    public func update(_ parameters: ParameterSet, learningRate lr: Float, gradientScale: Float = 1) throws {
        let profiled = StepProfile.begin(.adamw); defer { StepProfile.end(profiled) }
        guard parameters.totalCount == m.count else {
            throw TensorError("AdamW: built for \(m.count) scalars, given a ParameterSet of \(parameters.totalCount)")
        }
        step += 1
        let stepSize = lr / Float(1 - pow(Double(config.beta1), Double(step)))
        let sqrtCorrection2 = Float((1 - pow(Double(config.beta2), Double(step))).squareRoot())
        for e in parameters.entries where e.trainable {
            let rule = AdamWRule(config: config, stepSize: stepSize, sqrtCorrection2: sqrtCorrection2,
                                 decay: e.weightDecay ? 1 - lr * config.weightDecay : 1, gradientScale: gradientScale)
            let p = parameters.values.base + e.offset, g = parameters.gradients.base + e.offset
            let pm = m.base + e.offset, pv = v.base + e.offset
            // Elementwise, so splitting the range across cores cannot change a bit.
            EngineThreads.forEachRowChunk(rows: e.count, costPerRow: 8) { (range: Range<Int>) in
                var i = range.lowerBound
                while i + 8 <= range.upperBound {
                    rule.apply8(p + i, g + i, pm + i, pv + i)
                    i += 8
                }
                if i < range.upperBound { rule.applyTail(p + i, g + i, pm + i, pv + i, count: range.upperBound - i) }
            }
        }
    }
}

/// The update of the file comment for one parameter entry, 8 lanes at a time (each lane is the
/// scalar rule, operation for operation, so results do not depend on where the lanes fall).
struct AdamWRule {
    let b1: SIMD8<Float>, oneMinusB1: SIMD8<Float>, b2: SIMD8<Float>, oneMinusB2: SIMD8<Float>
    let eps: SIMD8<Float>, stepSize: SIMD8<Float>, sqrtCorrection2: SIMD8<Float>, decay: SIMD8<Float>
    let gradientScale: SIMD8<Float>

    init(config: AdamWConfig, stepSize: Float, sqrtCorrection2: Float, decay: Float, gradientScale: Float) {
        b1 = .init(repeating: config.beta1); oneMinusB1 = .init(repeating: 1 - config.beta1)
        b2 = .init(repeating: config.beta2); oneMinusB2 = .init(repeating: 1 - config.beta2)
        eps = .init(repeating: config.eps); self.stepSize = .init(repeating: stepSize)
        self.sqrtCorrection2 = .init(repeating: sqrtCorrection2); self.decay = .init(repeating: decay)
        self.gradientScale = .init(repeating: gradientScale)
    }

    @inline(__always)
    func apply8(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ pm: UnsafeMutablePointer<Float>,
                _ pv: UnsafeMutablePointer<Float>) {
        let gi = FastMath.load(g) * gradientScale   // the same product as clipping's g *= factor; x * 1 == x
        let mi: SIMD8<Float> = b1 * FastMath.load(pm) + oneMinusB1 * gi
        let vi: SIMD8<Float> = b2 * FastMath.load(pv) + oneMinusB2 * (gi * gi)
        FastMath.store(mi, pm); FastMath.store(vi, pv)
        let denominator: SIMD8<Float> = vi.squareRoot() / sqrtCorrection2 + eps
        FastMath.store(FastMath.load(p) * decay - stepSize * mi / denominator, p)
    }

    /// The last n < 8 scalars, through 8-lane stack buffers padded with zeros.
    func applyTail(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ pm: UnsafeMutablePointer<Float>,
                   _ pv: UnsafeMutablePointer<Float>, count n: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buffer in
            let b = buffer.baseAddress!
            b.initialize(repeating: 0, count: 32)
            for (k, source) in [p, g, pm, pv].enumerated() { (b + 8 * k).update(from: source, count: n) }
            apply8(b, b + 8, b + 16, b + 24)
            p.update(from: b, count: n); pm.update(from: b + 16, count: n); pv.update(from: b + 24, count: n)
        }
    }
}
