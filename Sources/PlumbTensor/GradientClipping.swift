// Clipping by global norm (Pascanu et al. 2013; PyTorch `clip_grad_norm_`):
//   n = sqrt(sum over trainable gradients of g^2);  if n > maxNorm: g <- g * maxNorm / (n + 1e-6)

public enum GradientClipping {
    /// The L2 norm of all trainable gradients, accumulated in Double.
    public static func globalNorm(_ parameters: ParameterSet) -> Float {
        var total = 0.0
        for e in parameters.entries where e.trainable {
            let g = parameters.gradients.base + e.offset
            for i in 0..<e.count { let x = Double(g[i]); total += x * x }
        }
        return Float(total.squareRoot())
    }

    /// Scales the trainable gradients down to norm `maxNorm` when above it; returns the norm before clipping.
    @discardableResult
    public static func clip(_ parameters: ParameterSet, maxNorm: Float) -> Float {
        let norm = globalNorm(parameters)
        guard norm > maxNorm else { return norm }
        let factor = maxNorm / (norm + 1e-6)
        for e in parameters.entries where e.trainable {
            let g = parameters.gradients.base + e.offset
            for i in 0..<e.count { g[i] *= factor }
        }
        return norm
    }
}
