// AdamW (Loshchilov & Hutter 2019, decoupled weight decay), step for step as PyTorch's
// `torch.optim.AdamW` (single-tensor path), for each trainable parameter at step t = 1, 2, ...:
//   p  <- p * (1 - lr * wd)                     only where the parameter's weightDecay flag is set
//   m  <- b1 m + (1 - b1) g
//   v  <- b2 v + (1 - b2) g^2
//   p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
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

    /// One update of every trainable parameter from its gradient, at learning rate `learningRate`.
    public func update(_ parameters: ParameterSet, learningRate lr: Float) throws {
        guard parameters.totalCount == m.count else {
            throw TensorError("AdamW: built for \(m.count) scalars, given a ParameterSet of \(parameters.totalCount)")
        }
        step += 1
        let b1 = config.beta1, b2 = config.beta2, eps = config.eps
        let stepSize = lr / Float(1 - pow(Double(b1), Double(step)))
        let sqrtCorrection2 = Float((1 - pow(Double(b2), Double(step))).squareRoot())
        for e in parameters.entries where e.trainable {
            let p = parameters.values.base + e.offset, g = parameters.gradients.base + e.offset
            let pm = m.base + e.offset, pv = v.base + e.offset
            let decay: Float = e.weightDecay ? 1 - lr * config.weightDecay : 1
            // Elementwise, so splitting the range across cores cannot change a bit.
            EngineThreads.forEachRowChunk(rows: e.count, costPerRow: 8) { (range: Range<Int>) in
                for i in range {
                    let gi: Float = g[i]
                    let mi: Float = b1 * pm[i] + (1 - b1) * gi
                    let vi: Float = b2 * pv[i] + (1 - b2) * (gi * gi)
                    pm[i] = mi; pv[i] = vi
                    let denominator: Float = vi.squareRoot() / sqrtCorrection2 + eps
                    p[i] = p[i] * decay - stepSize * mi / denominator
                }
            }
        }
    }
}
