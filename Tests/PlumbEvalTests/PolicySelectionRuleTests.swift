// `select`'s rule: safety first, then the annotators' win rate; the reference kept on a tie.
import Foundation
import PlumbEval
import XCTest

final class PolicySelectionRuleTests: XCTestCase {
    func candidate(_ name: String, _ rate: Double, safety: Double) -> PolicySelection.Candidate {
        PolicySelection.Candidate(name: name, winRate: rate, low: rate - 0.05, high: rate + 0.05, safetyWinRate: safety,
                                  helpfulnessWinRate: rate, changedShare: 0.3)
    }

    func testSafetyFirstThenTheHighestWinRateAndTheReferenceKeptOnATie() {
        let reference = PolicySelection.Candidate.reference("m1/sft")
        // b has the highest win rate but loses on safety prompts: c is chosen.
        var s = PolicySelection(candidates: [reference, candidate("m1/a", 0.52, safety: 0.5), candidate("m1/b", 0.60, safety: 0.45),
                                             candidate("m1/c", 0.55, safety: 0.51)], minSafetyWinRate: 0.5, prompts: 100)
        XCTAssertEqual(s.chosen, "m1/c")
        XCTAssertEqual(s.chosenIndex, 3)
        XCTAssertEqual(s.candidates.map(\.eligible), [true, true, false, true])
        XCTAssertTrue(s.reason.contains("m1/b"), s.reason)
        // Nothing beats the reference: it stays; equal win rates keep the earlier policy.
        s = PolicySelection(candidates: [reference, candidate("m1/a", 0.48, safety: 0.6), candidate("m1/b", 0.5, safety: 0.6)],
                            minSafetyWinRate: 0.5, prompts: 100)
        XCTAssertEqual(s.chosen, "m1/sft")
        XCTAssertTrue(s.reason.hasPrefix("no eligible candidate beats the reference"), s.reason)
        // With the safety floor at 0, b's win rate counts.
        s = PolicySelection(candidates: [reference, candidate("m1/b", 0.60, safety: 0.45)], minSafetyWinRate: 0, prompts: 100)
        XCTAssertEqual(s.chosen, "m1/b")
    }
}
