import XCTest
@testable import PlumbStages

final class RankingLossTests: XCTestCase {
    /// A hand-computed case: r_c = 2, r_r = 1, margin 2/3 ("better", margin small):
    /// z = 1/3, loss = log(1 + e^(-1/3)) = 0.5439...; without a margin z = 1, loss = log(1 + e^-1) = 0.3133.
    func testMarginChangesLossExactlyAsTheFormulaSays() {
        let m = MarginTable.small.margin(for: .better)
        XCTAssertEqual(m, 2.0 / 3.0, accuracy: 1e-7)
        let with = RankingLoss.evaluate(chosen: [2], rejected: [1], margins: [m])
        let without = RankingLoss.evaluate(chosen: [2], rejected: [1], margins: [0])
        XCTAssertEqual(Double(with.loss), log(1 + exp(-1.0 / 3.0)), accuracy: 1e-6)
        XCTAssertEqual(Double(without.loss), log(1 + exp(-1.0)), accuracy: 1e-6)
        XCTAssertGreaterThan(with.loss, without.loss, "a margin demands a larger gap, so the loss is larger")
        XCTAssertEqual(MarginTable.large.margin(for: .significantlyBetter), 3)
        XCTAssertEqual(MarginTable.large.margin(for: .negligiblyBetter), 0)
        XCTAssertEqual(MarginTable.none.margin(for: .significantlyBetter), 0)
    }

    /// Centring adds c * mean((r_c + r_r)^2): r = (2, 1), c = 0.01 adds 0.09.
    func testCentringTermAddsMeanSquaredSum() {
        let base = RankingLoss.evaluate(chosen: [2], rejected: [1], margins: [0])
        let centred = RankingLoss.evaluate(chosen: [2], rejected: [1], margins: [0], centring: 0.01)
        XCTAssertEqual(centred.loss - base.loss, 0.09, accuracy: 1e-6)
    }

    /// Gradients agree with central finite differences in Double on a random batch.
    func testGradientMatchesFiniteDifferences() {
        var g = SystemRandomNumberGenerator()
        let n = 7
        let chosen = (0..<n).map { _ in Float.random(in: -3...3, using: &g) }
        let rejected = (0..<n).map { _ in Float.random(in: -3...3, using: &g) }
        let margins = (0..<n).map { _ in [0, 1.0 / 3.0, 2.0 / 3.0, 1][Int.random(in: 0..<4, using: &g)] as Float }
        let c: Float = 0.05
        let result = RankingLoss.evaluate(chosen: chosen, rejected: rejected, margins: margins, centring: c)
        func lossD(_ rc: [Double], _ rr: [Double]) -> Double {
            var s = 0.0
            for i in 0..<n {
                let z = rc[i] - rr[i] - Double(margins[i])
                s += log(1 + exp(-z)) + Double(c) * (rc[i] + rr[i]) * (rc[i] + rr[i])
            }
            return s / Double(n)
        }
        let rc = chosen.map(Double.init), rr = rejected.map(Double.init)
        let h = 1e-5
        for i in 0..<n {
            var p = rc, q = rc
            p[i] += h; q[i] -= h
            XCTAssertEqual(Double(result.gradChosen[i]), (lossD(p, rr) - lossD(q, rr)) / (2 * h), accuracy: 1e-5)
            var a = rr, b = rr
            a[i] += h; b[i] -= h
            XCTAssertEqual(Double(result.gradRejected[i]), (lossD(rc, a) - lossD(rc, b)) / (2 * h), accuracy: 1e-5)
        }
        XCTAssertEqual(Double(result.loss), lossD(rc, rr), accuracy: 1e-5)
    }

    /// Very large gaps neither overflow nor lose the gradient's sign.
    func testStableForLargeGaps() {
        let r = RankingLoss.evaluate(chosen: [200, -200], rejected: [-200, 200], margins: [0, 0])
        XCTAssertTrue(r.loss.isFinite)
        XCTAssertEqual(r.loss, 200, accuracy: 1e-3)
        XCTAssertEqual(r.accuracy, 0.5)
        XCTAssertLessThan(r.gradChosen[1], 0)
    }
}
