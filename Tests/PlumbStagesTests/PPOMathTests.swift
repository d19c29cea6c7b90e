// PPO's arithmetic against hand-worked cases and independent references: GAE, whitening, the KL
// estimators (exact KL by Monte Carlo), the adaptive KL controller, and each loss with its gradient
// against a differently written Double formula and central differences.
import Foundation
@testable import PlumbStages
import PlumbTensor
import XCTest

final class PPOMathTests: XCTestCase {
    func testGAEOnAHandWorkedCase() {
        // rewards (0, 0, 1), values (0.5, 0.2, 0.1), gamma 1, lambda 0.95:
        //   t=2: delta = 1 + 0 - 0.1 = 0.9                      A = 0.9
        //   t=1: delta = 0 + 0.1 - 0.2 = -0.1                   A = -0.1 + 0.95 * 0.9 = 0.755
        //   t=0: delta = 0 + 0.2 - 0.5 = -0.3                   A = -0.3 + 0.95 * 0.755 = 0.41725
        let r = Advantages.gae(rewards: [0, 0, 1], values: [0.5, 0.2, 0.1], gamma: 1, lambda: 0.95)
        for (a, e) in zip(r.advantages, [0.41725, 0.755, 0.9]) { XCTAssertEqual(a, e, accuracy: 1e-12) }
        for (a, e) in zip(r.returns, [0.91725, 0.955, 1.0]) { XCTAssertEqual(a, e, accuracy: 1e-12) }
        // gamma 0.5, lambda 0: one-step TD errors. t=1: 2 - 1 = 1; t=0: -1 + 0.5 * 1 - 3 = -3.5.
        let td = Advantages.gae(rewards: [-1, 2], values: [3, 1], gamma: 0.5, lambda: 0)
        XCTAssertEqual(td.advantages, [-3.5, 1])
        // lambda 1, gamma 1: A_t = (sum of rewards from t) - V_t (Monte Carlo).
        let mc = Advantages.gae(rewards: [1, 2, 3], values: [0.5, -1, 2], gamma: 1, lambda: 1)
        XCTAssertEqual(mc.advantages, [6 - 0.5, 5 + 1, 3 - 2])
    }

    func testWhiteningUsesEveryTokenOfEverySequence() {
        let w = Advantages.whiten([[1, 2], [3], [4, 5, 6]])
        let flat = w.flatMap { $0 }
        XCTAssertEqual(w.map(\.count), [2, 1, 3])
        XCTAssertEqual(flat.reduce(0, +) / 6, 0, accuracy: 1e-12)
        // Unbiased variance of 1...6 is 3.5.
        XCTAssertEqual(flat[5], (6 - 3.5) / (3.5 + 1e-8).squareRoot(), accuracy: 1e-12)
    }

    /// Both estimators, averaged over tokens drawn from p, converge to KL(p || q) (k1 and k3 are
    /// unbiased); k3 is never negative and has the lower variance here.
    func testKLEstimatorsAreUnbiasedForTheExactKL() {
        let p: [Double] = [0.5, 0.3, 0.15, 0.05], q: [Double] = [0.25, 0.25, 0.25, 0.25]
        let exact = zip(p, q).reduce(0) { $0 + $1.0 * log($1.0 / $1.1) }
        var rng = SeededRNG(seed: 3)
        var sums: [KLEstimator: (Double, Double)] = [.k1: (0, 0), .k3: (0, 0)]
        let n = 200_000
        for _ in 0..<n {
            var u = Double(rng.next() >> 11) / Double(1 << 53), i = 0
            while i < p.count - 1 && u >= p[i] { u -= p[i]; i += 1 }
            for e in KLEstimator.allCases {
                let x = e.estimate(policy: log(p[i]), reference: log(q[i]))
                if e == .k3 { XCTAssertGreaterThanOrEqual(x, 0) }
                sums[e]!.0 += x; sums[e]!.1 += x * x
            }
        }
        var variances: [KLEstimator: Double] = [:]
        for e in KLEstimator.allCases {
            let mean = sums[e]!.0 / Double(n)
            variances[e] = sums[e]!.1 / Double(n) - mean * mean
            XCTAssertEqual(mean, exact, accuracy: 0.01, "\(e) mean over \(n) draws")
        }
        XCTAssertLessThan(variances[.k3]!, variances[.k1]!)
        XCTAssertEqual(KLEstimator.k1.estimate(policy: -1, reference: -2), 1)
        XCTAssertEqual(KLEstimator.k3.estimate(policy: -1, reference: -2), exp(-1.0) - 1 + 1, accuracy: 1e-15)
    }

    func testAdaptiveControllerMovesBetaTowardsTheTarget() {
        var c = KLController(beta: 0.1, target: 6, horizon: 10_000)
        c.update(kl: 12, responses: 500)     // error clipped to +0.2: beta * (1 + 0.2 * 0.05)
        XCTAssertEqual(c.beta, 0.1 * 1.01, accuracy: 1e-15)
        c.update(kl: 5.4, responses: 1_000)  // error -0.1: beta * (1 - 0.1 * 0.1)
        XCTAssertEqual(c.beta, 0.1 * 1.01 * 0.99, accuracy: 1e-15)
        var fixed = KLController(beta: 0.05)
        fixed.update(kl: 100, responses: 64)
        XCTAssertEqual(fixed.beta, 0.05)
    }

    /// The clipped surrogate written as TRL writes it, -min(A rho, A clip(rho)) = max(-A rho, -A clip(rho)),
    /// and the value loss as 0.5 max((v - R)^2, (v_c - R)^2), checked with central differences away
    /// from the kinks, on both sides of each clip.
    func testLossesAndGradientsAgainstFormulasAndCentralDifferences() {
        let loss = PPOLoss(clip: 0.2, valueClip: 0.2, valueCoefficient: 0.1)
        func surrogate(_ lp: Double, _ old: Double, _ a: Double) -> Double {
            let rho = exp(lp - old)
            return -min(a * rho, a * min(max(rho, 0.8), 1.2))
        }
        let h = 1e-6
        // (lp - old, A): inside the range, above it with A > 0 (clipped), above with A < 0 (not), below with A < 0 (clipped).
        for (delta, a, clipped) in [(0.05, 1.3, false), (0.4, 0.7, true), (0.4, -0.7, false), (-0.5, -1.1, true), (-0.5, 0.9, false)] {
            let old = -2.0, lp = old + delta
            let term = loss.policy(logProb: lp, oldLogProb: old, advantage: a)
            XCTAssertEqual(term.loss, surrogate(lp, old, a), accuracy: 1e-12)
            XCTAssertEqual(term.clipped, clipped, "delta \(delta), A \(a)")
            let numeric = (surrogate(lp + h, old, a) - surrogate(lp - h, old, a)) / (2 * h)
            XCTAssertEqual(term.dLogProb, numeric, accuracy: 1e-6)
            XCTAssertEqual(term.approxKL, 0.5 * delta * delta, accuracy: 1e-12)
        }
        func valueLoss(_ v: Double, _ old: Double, _ target: Double) -> Double {
            let vc = min(max(v, old - 0.2), old + 0.2)
            return 0.5 * max((v - target) * (v - target), (vc - target) * (vc - target))
        }
        // (v - old, R - old): inside; moved past the clip away from R (clipped term smaller, not used);
        // moved past the clip towards and beyond R (clipped term larger: gradient 0).
        for (dv, dr, clipped) in [(0.1, 0.5, false), (-0.5, 0.3, false), (0.5, 0.45, true), (0.05, -1, false)] {
            let old = 1.5, v = old + dv, target = old + dr
            let term = loss.value(v, oldValue: old, target: target)
            XCTAssertEqual(term.loss, valueLoss(v, old, target), accuracy: 1e-12)
            XCTAssertEqual(term.clipped, clipped, "dv \(dv), dR \(dr)")
            let numeric = (valueLoss(v + h, old, target) - valueLoss(v - h, old, target)) / (2 * h)
            XCTAssertEqual(term.dValue, numeric, accuracy: 1e-6)
        }
    }

    func testPromptOrderIsASeededFunctionOfTheIteration() {
        let a = PPORollouts.promptIndices(iteration: 3, perIteration: 7, count: 10, seed: 5)
        XCTAssertEqual(a, PPORollouts.promptIndices(iteration: 3, perIteration: 7, count: 10, seed: 5))
        XCTAssertNotEqual(a, PPORollouts.promptIndices(iteration: 3, perIteration: 7, count: 10, seed: 6))
        // Every pass over the prompts takes each prompt once.
        let twoPasses = (0..<20).flatMap { PPORollouts.promptIndices(iteration: $0, perIteration: 1, count: 10, seed: 5) }
        XCTAssertEqual(twoPasses.prefix(10).sorted(), Array(0..<10))
        XCTAssertEqual(twoPasses.suffix(10).sorted(), Array(0..<10))
    }
}
