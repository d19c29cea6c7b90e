// KTO's loss against its formula written out again in Double, its gradient against central
// differences, the reference point's clamp at 0, and TRL's weight-balance rule.
import Foundation
@testable import PlumbStages
import XCTest

final class KTOLossTests: XCTestCase {
    let examples: [KTOLoss.Example] = [
        .init(policy: -12.5, reference: -13, desirable: true, tokens: 5), .init(policy: -20, reference: -18.25, desirable: false, tokens: 7),
        .init(policy: -3, reference: -7, desirable: true, tokens: 2), .init(policy: -30, reference: -31, desirable: false),
        .init(policy: -8, reference: -9.5, desirable: false),
    ]
    let mismatched: [(policy: Double, reference: Double)] = [(-40, -41.5), (-22, -23.5), (-15, -13.5)]   // KL estimates 1.5, 1.5, -1.5

    /// METHODS.md section 12 again: z0 from the mismatched pairs, then the two branches.
    func reference(_ loss: KTOLoss, _ examples: [KTOLoss.Example]) -> Double {
        let z0 = max(0, mismatched.map { $0.policy - $0.reference }.reduce(0, +) / Double(mismatched.count))
        let terms = examples.map { e -> Double in
            let r = e.policy - e.reference
            return e.desirable ? loss.desirableWeight * (1 - 1 / (1 + exp(-loss.beta * (r - z0)))) - loss.rpo * e.policy / Double(e.tokens)
                               : loss.undesirableWeight * (1 - 1 / (1 + exp(-loss.beta * (z0 - r))))
        }
        return terms.reduce(0, +) / Double(examples.count)
    }

    func testLossAndGradientAgainstTheFormulaAndCentralDifferences() {
        for loss in [KTOLoss(), KTOLoss(beta: 0.5, desirableWeight: 1.33, undesirableWeight: 0.7), KTOLoss(beta: 0.1, rpo: 1)] {
            let v = loss.evaluate(examples, mismatched: mismatched)
            XCTAssertEqual(v.kl, 0.5, accuracy: 1e-12, "z0: the mean of 1.5, 1.5 and -1.5")
            XCTAssertEqual(v.loss, reference(loss, examples), accuracy: 1e-12)
            for i in examples.indices {
                let h = 1e-5
                func at(_ d: Double) -> Double {
                    var moved = examples
                    moved[i].policy += d
                    return loss.evaluate(moved, mismatched: mismatched).loss
                }
                XCTAssertEqual(v.dPolicy[i], (at(h) - at(-h)) / (2 * h), accuracy: 1e-9, "example \(i), beta \(loss.beta)")
                XCTAssertEqual(v.rewards[i], loss.beta * (examples[i].policy - examples[i].reference), accuracy: 1e-12)
            }
        }
    }

    func testReferencePointIsClampedAtZero() {
        let v = KTOLoss().evaluate(examples, mismatched: [(-10, -5), (-10, -9)])
        XCTAssertEqual(v.kl, 0, "a negative KL estimate counts as 0")
        XCTAssertEqual(KTOLoss().evaluate(examples, mismatched: []).kl, 0)
        // With r = z0 = 0 every term is lambda / 2.
        let even = KTOLoss().evaluate([.init(policy: -4, reference: -4, desirable: true), .init(policy: -6, reference: -6, desirable: false)], mismatched: [])
        XCTAssertEqual(even.loss, 0.5, accuracy: 1e-12)
    }

    func testWeightBalanceFollowsThePaper() throws {
        XCTAssertNil(KTOLoss().weightBalance(desirable: 120, undesirable: 100).notice, "1.2 is inside [1, 4/3]")
        XCTAssertNotNil(KTOLoss().weightBalance(desirable: 100, undesirable: 120).notice, "0.83 is below 1")
        XCTAssertNil(KTOLoss(desirableWeight: 1.2).weightBalance(desirable: 100, undesirable: 120).notice, "weighted up to 1.0")
        XCTAssertThrowsError(try KTOLoss(beta: 0).validate())
        XCTAssertThrowsError(try KTOLoss(undesirableWeight: 0).validate())
    }
}
