// Clipping by global norm (Pascanu et al. 2013; PyTorch `clip_grad_norm_`):
//   n = sqrt(sum over trainable gradients of g^2);  if n > maxNorm: g <- g * maxNorm / (n + 1e-6)
// The sum is taken in Double over fixed blocks of `blockSize` scalars (one partial sum per block,
// blocks spread over the cores, partials added in block order), so the result does not depend on
// the number of threads or their timing.

public enum GradientClipping {
    static let blockSize = 1 << 16

    /// The L2 norm of all trainable gradients, accumulated in Double.
    public static func globalNorm(_ parameters: ParameterSet) -> Float {
        let profiled = StepProfile.begin(.clip); defer { StepProfile.end(profiled) }
        var total = 0.0
        for e in parameters.entries where e.trainable {
            let g = parameters.gradients.base + e.offset
            let blocks = (e.count + blockSize - 1) / blockSize
            var partial = [Double](repeating: 0, count: blocks)
            partial.withUnsafeMutableBufferPointer { pb in
                EngineThreads.forEachRowChunk(rows: blocks, costPerRow: blockSize) { range in
                    for block in range {
                        var acc = 0.0
                        for i in block * blockSize..<min(e.count, (block + 1) * blockSize) { let x = Double(g[i]); acc += x * x }
                        pb[block] = acc
                    }
                }
            }
            for p in partial { total += p }
        }
        return Float(total.squareRoot())
    }

    /// Scales the trainable gradients down to norm `maxNorm` when above it; returns the norm before clipping.
    @discardableResult
    public static func clip(_ parameters: ParameterSet, maxNorm: Float) -> Float {
        let profiled = StepProfile.begin(.clip); defer { StepProfile.end(profiled) }
        let norm = globalNorm(parameters)
        scale(parameters, norm: norm, maxNorm: maxNorm)
        return norm
    }

    /// clip_grad_norm_'s factor for gradients of global norm `norm`: maxNorm / (norm + 1e-6) above
    /// maxNorm, else 1.
    public static func factor(norm: Float, maxNorm: Float) -> Float {
        norm > maxNorm ? maxNorm / (norm + 1e-6) : 1
    }

    /// Scales the trainable gradients, whose global norm is `norm`, down to `maxNorm` when above it.
    public static func scale(_ parameters: ParameterSet, norm: Float, maxNorm: Float) {
        guard norm > maxNorm else { return }
        let f = factor(norm: norm, maxNorm: maxNorm)
        for e in parameters.entries where e.trainable {
            let g = parameters.gradients.base + e.offset
            EngineThreads.forEachRowChunk(rows: e.count, costPerRow: 1) { range in
                for i in range { g[i] *= f }
            }
        }
    }
}
