// The critic-free estimators' advantages against hand computations in Double (RLEstimation.swift has
// the equations), the KL term of the loss against central differences, and the returns they start
// from (the KL in the reward or not).
import Foundation
import PlumbData
import PlumbTensor
@testable import PlumbStages
import XCTest

final class RLAdvantageTests: XCTestCase {
    /// Two groups of k = 3: returns (1, 2, 4) and (0, 0, 3).
    let returns: [Double] = [1, 2, 4, 0, 0, 3]

    /// A_i = R_i - (sum of the other two) / 2: group 1 sums to 7, group 2 to 3.
    func testLeaveOneOutByHand() {
        let a = GroupAdvantages.leaveOneOut(returns, groupSize: 3)
        let hand: [Double] = [1 - 6.0 / 2, 2 - 5.0 / 2, 4 - 3.0 / 2, 0 - 3.0 / 2, 0 - 3.0 / 2, 3 - 0.0 / 2]
        XCTAssertEqual(hand, [-2, -0.5, 2.5, -1.5, -1.5, 3])
        for (x, y) in zip(a, hand) { XCTAssertEqual(x, y, accuracy: 1e-15) }
        // RLOO is mean-free within each group: sum_i A_i = sum_i R_i - (k-1)/(k-1) sum_j R_j = 0.
        XCTAssertEqual(a[0..<3].reduce(0, +), 0, accuracy: 1e-15)
    }

    /// Group 1: mean 7/3, deviations (-4/3, -1/3, 5/3), unbiased variance (16 + 1 + 25) / 9 / 2 = 7/3.
    /// Group 2: mean 1, deviations (-1, -1, 2), unbiased variance (1 + 1 + 4) / 2 = 3.
    func testGroupNormalisedByHand() {
        let scaled = GroupAdvantages.groupNormalised(returns, groupSize: 3, scale: true)
        let s1 = (7.0 / 3).squareRoot() + 1e-4, s2 = 3.0.squareRoot() + 1e-4
        let hand = [-4.0 / 3 / s1, -1.0 / 3 / s1, 5.0 / 3 / s1, -1 / s2, -1 / s2, 2 / s2]
        for (x, y) in zip(scaled, hand) { XCTAssertEqual(x, y, accuracy: 1e-14) }
        XCTAssertEqual(scaled[2], 1.09109, accuracy: 1e-4, "5/3 / sqrt(7/3) = 1.09109 by hand")
        let unscaled = GroupAdvantages.groupNormalised(returns, groupSize: 3, scale: false)
        for (x, y) in zip(unscaled, [-4.0 / 3, -1.0 / 3, 5.0 / 3, -1, -1, 2]) { XCTAssertEqual(x, y, accuracy: 1e-15) }
        // A group of equal returns carries no signal: every advantage 0, not a division by zero.
        XCTAssertEqual(GroupAdvantages.groupNormalised([0.5, 0.5], groupSize: 2, scale: true), [0, 0])
    }

    /// Rewards (-0.1, 0.9) and (0.2): returns to go (0.8, 0.9) and (0.2); mean 1.9/3, deviations
    /// (1/6, 4/15, -13/30), squares summing to 0.28667, unbiased variance 0.143333.
    func testReinforcePlusPlusByHand() {
        let a = GroupAdvantages.reinforcePlusPlus([[-0.1, 0.9], [0.2]])
        let std = (0.28666666666666667 / 2 + 1e-8).squareRoot()
        let hand = [[1.0 / 6 / std, 4.0 / 15 / std], [-13.0 / 30 / std]]
        XCTAssertEqual(a.count, 2); XCTAssertEqual(a[0].count, 2); XCTAssertEqual(a[1].count, 1)
        for (x, y) in zip(a.flatMap { $0 }, hand.flatMap { $0 }) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        XCTAssertEqual(a[0][0], 0.44023, accuracy: 1e-4, "(1/6) / 0.378594 by hand")
    }

    /// A rollout with `score` whose log-probabilities differ from the reference's by `gaps` per token.
    func rollout(score: Double, gaps: [Float]) -> Rollout {
        let example = try! BatchLayout.Example(tokens: [1, 2], targets: [2, 3])
        var r = Rollout(promptID: "p", safetyPrompt: false, example: example, response: gaps.map { _ in 5 }, text: "", finished: true)
        r.logProbs = gaps.map { -1 + $0 }
        r.referenceLogProbs = gaps.map { _ in -1 }
        r.score = score
        return r
    }

    /// KL in the reward: R_i = s_i - beta * sum_t (lp - lp0) (k1), then RLOO over the group, the same
    /// advantage at every token. beta = 0.5: R = 1 - 0.5 * 0.5 = 0.75, 0 - 0.5 * 0 = 0, 2 - 0.5 * 1 = 1.5.
    /// KL in the loss: R = s.
    func testReturnsTakeTheKLOnlyWhenItIsInTheReward() {
        var batch = [rollout(score: 1, gaps: [0.25, 0.25]), rollout(score: 0, gaps: [0]), rollout(score: 2, gaps: [0.5, 0.25, 0.25])]
        let rloo = RLEstimation(estimator: .rloo, groupSize: 3, klIn: .reward)
        batch.computeCriticFreeAdvantages(rloo, beta: rloo.rewardBeta(0.5), klEstimator: .k1)
        let hand = [0.75 - (0 + 1.5) / 2, 0 - (0.75 + 1.5) / 2, 1.5 - (0.75 + 0) / 2]
        for (r, a) in zip(batch, hand) {
            XCTAssertEqual(r.advantages.count, r.tokenCount)
            for x in r.advantages { XCTAssertEqual(x, a, accuracy: 1e-6, "float32 log-probabilities: 1e-6") }
            XCTAssertTrue(r.returns.isEmpty, "no critic, no returns")
        }
        XCTAssertEqual(batch[2].kl.reduce(0, +), 1, accuracy: 1e-6)
        var inLoss = batch
        let loss = RLEstimation(estimator: .rloo, groupSize: 3, klIn: .loss)
        inLoss.computeCriticFreeAdvantages(loss, beta: loss.rewardBeta(0.5), klEstimator: .k1)
        for (r, a) in zip(inLoss, [1 - 1.0, 0 - 1.5, 2 - 0.5]) { XCTAssertEqual(r.advantages[0], a, accuracy: 1e-12) }
    }

    /// d(beta * KL)/dlp against central differences in Double (h = 1e-5; the error is O(h^2) ~ 1e-10).
    func testLossKLDerivativeMatchesCentralDifferences() {
        for estimator in KLEstimator.allCases {
            let kl = LossKL(estimator: estimator, beta: 0.3)
            for (lp, lp0) in [(-1.0, -1.2), (-2.5, -0.4), (-0.3, -0.3)] {
                let h = 1e-5
                let numeric = (kl.term(policy: lp + h, reference: lp0).loss - kl.term(policy: lp - h, reference: lp0).loss) / (2 * h)
                XCTAssertEqual(kl.term(policy: lp, reference: lp0).dLogProb, numeric, accuracy: 1e-8, "\(estimator) at \(lp), \(lp0)")
            }
        }
        XCTAssertEqual(LossKL(estimator: .k3, beta: 1).term(policy: -0.3, reference: -0.3).loss, 0, "k3 is 0 where the policies agree")
    }

    /// Bad input before any work: RLOO and GRPO need groups of at least 2; PPO keeps its KL in the reward.
    func testGroupSizeOneIsRefusedForTheGroupEstimators() throws {
        for estimator in [RLEstimator.rloo, .grpo] {
            var p = RLStage.Parameters()
            p.estimator = estimator; p.groupSize = 1
            XCTAssertThrowsError(try p.validate()) { error in
                let e = error as? StageParameterError
                XCTAssertEqual(e?.key, "group-size")
                XCTAssertTrue(e?.message.contains("at least 2 responses per prompt") == true, "\(error)")
            }
        }
        var p = RLStage.Parameters()
        p.estimator = .reinforcePlusPlus; p.groupSize = 1
        XCTAssertNoThrow(try p.validate(), "REINFORCE++ has no group baseline")
        p.estimator = .ppo; p.klIn = .loss
        XCTAssertThrowsError(try p.validate())
    }
}
