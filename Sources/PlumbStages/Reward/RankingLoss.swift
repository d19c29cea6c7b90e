// The reward model's binary ranking loss with a margin, and its gradient.
//
//   L = 1/N Σ_i -log σ( r_c,i - r_r,i - m_i )              Llama 2 (arXiv 2307.09288), eq. 2
//     + c · 1/N Σ_i ( r_c,i + r_r,i )²                      optional centring (TRL `center_rewards_coefficient`)
//
// with z_i = r_c,i - r_r,i - m_i:  -log σ(z) = softplus(-z),  d/dz [-log σ(z)] = -(1 - σ(z)) = -σ(-z).
// Hence  ∂L/∂r_c,i = ( -σ(-z_i) + 2c (r_c,i + r_r,i) ) / N,   ∂L/∂r_r,i = ( σ(-z_i) + 2c (r_c,i + r_r,i) ) / N.
import Foundation

public struct RankingLossResult: Equatable, Sendable {
    /// The mean loss over the batch, centring term included.
    public var loss: Float
    /// ∂L/∂r_chosen, one per comparison.
    public var gradChosen: [Float]
    /// ∂L/∂r_rejected, one per comparison.
    public var gradRejected: [Float]
    /// Share of comparisons with r_chosen > r_rejected (margin not applied).
    public var accuracy: Float
}

public enum RankingLoss {
    /// Loss and gradients for rewards `chosen[i]`, `rejected[i]` with margins `margins[i]`.
    public static func evaluate(chosen: [Float], rejected: [Float], margins: [Float], centring c: Float = 0) -> RankingLossResult {
        precondition(chosen.count == rejected.count && chosen.count == margins.count,
                     "RankingLoss: \(chosen.count) chosen, \(rejected.count) rejected, \(margins.count) margins")
        let n = chosen.count
        guard n > 0 else { return RankingLossResult(loss: 0, gradChosen: [], gradRejected: [], accuracy: 0) }
        let invN = 1 / Float(n)
        var loss: Double = 0
        var correct = 0
        var gradChosen = [Float](repeating: 0, count: n)
        var gradRejected = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let z = chosen[i] - rejected[i] - margins[i]
            let sum = chosen[i] + rejected[i]
            loss += Double(softplus(-z)) + Double(c * sum * sum)
            let s = sigmoid(-z)
            gradChosen[i] = (-s + 2 * c * sum) * invN
            gradRejected[i] = (s + 2 * c * sum) * invN
            if chosen[i] > rejected[i] { correct += 1 }
        }
        return RankingLossResult(loss: Float(loss / Double(n)), gradChosen: gradChosen, gradRejected: gradRejected,
                                 accuracy: Float(correct) * invN)
    }

    /// σ(x) = 1 / (1 + e^-x), evaluated without overflow for large |x|.
    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }

    /// softplus(x) = log(1 + e^x), evaluated without overflow.
    @inline(__always) static func softplus(_ x: Float) -> Float {
        x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x))
    }
}
