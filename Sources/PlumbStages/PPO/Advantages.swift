// Generalised advantage estimation over each response's tokens (Schulman et al. 2016; InstructGPT,
// TRL; ../shared/docs/METHODS.md section 7), with t = 0..<T the response's tokens, V_T = 0:
//
//   delta_t = r_t + gamma * V_{t+1} - V_t
//   A_t     = delta_t + gamma * lambda * A_{t+1}        (A_T = 0)
//   R_t     = A_t + V_t                                 (the value model's regression target)
//
// Advantages are then whitened over every response token of the batch (TRL's masked_whiten: the
// unbiased variance, (A - mean) / sqrt(var + 1e-8)).
public enum Advantages {
    /// (advantages, returns) of one response from its per-token rewards and values.
    public static func gae(rewards: [Double], values: [Double], gamma: Double, lambda: Double) -> (advantages: [Double], returns: [Double]) {
        precondition(rewards.count == values.count, "gae: one value per reward")
        var advantages = [Double](repeating: 0, count: rewards.count)
        var last = 0.0
        for t in stride(from: rewards.count - 1, through: 0, by: -1) {
            let next = t + 1 < values.count ? values[t + 1] : 0
            let delta = rewards[t] + gamma * next - values[t]
            last = delta + gamma * lambda * last
            advantages[t] = last
        }
        return (advantages, zip(advantages, values).map { $0 + $1 })
    }

    /// Whitens every value of every sequence together: (x - mean) / sqrt(unbiased var + 1e-8).
    public static func whiten(_ sequences: [[Double]]) -> [[Double]] {
        var n = 0.0, sum = 0.0
        for s in sequences { for x in s { n += 1; sum += x } }
        guard n > 1 else { return sequences.map { $0.map { _ in 0 } } }
        let mean = sum / n
        var squares = 0.0
        for s in sequences { for x in s { squares += (x - mean) * (x - mean) } }
        let scale = 1 / (squares / (n - 1) + 1e-8).squareRoot()
        return sequences.map { $0.map { ($0 - mean) * scale } }
    }
}
