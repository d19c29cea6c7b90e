import PlumbData
import PlumbTensor
@testable import PlumbStages
import XCTest

final class RewardEvaluationTests: XCTestCase {
    func comparison(_ chosen: String, _ rejected: String, _ strength: PreferenceStrength?, dimension: PreferenceDimension = .helpfulness,
                    chosenSafe: Bool? = nil, rejectedSafe: Bool? = nil, tags: [String] = []) -> Comparison {
        Comparison(id: chosen, prompt: Prompt(messages: [.user("q")], tags: tags), chosen: chosen, rejected: rejected, dimension: dimension,
                   strength: strength, chosenSafe: chosenSafe, rejectedSafe: rejectedSafe, source: SourceRef(file: "t", line: 1))
    }

    /// Four comparisons whose figures are worked out by hand in the comments.
    func testFiguresOfAHandMadeCase() {
        let scored = [
            // hit; chosen shorter; labels: chosen safe (2), rejected unsafe (1)
            ScoredComparison(comparison: comparison("aa", "aaaa", .level(.better), chosenSafe: true, rejectedSafe: false, tags: ["add", "heldout"]),
                             source: "s1", chosenScore: 2, rejectedScore: 1),
            // miss; chosen longer; labels: chosen unsafe (-3), rejected safe (0)
            ScoredComparison(comparison: comparison("bbbb", "b", .level(.slightlyBetter), chosenSafe: false, rejectedSafe: true, tags: ["add"]),
                             source: "s1", chosenScore: -3, rejectedScore: 0),
            // a tie of scores is a miss; a tie of lengths counts 1/2 for both baselines
            ScoredComparison(comparison: comparison("cc", "dd", nil), source: "s2", chosenScore: 0.5, rejectedScore: 0.5),
            // hit; chosen shorter
            ScoredComparison(comparison: comparison("e", "ffffff", .level(.better), dimension: .safety), source: "s2",
                             chosenScore: 1, rejectedScore: -4),
        ]
        let e = RewardEvaluation(scored)
        XCTAssertEqual(e.overall.accuracy, 0.5, accuracy: 1e-12)
        XCTAssertEqual(e.byStrength["better"]?.accuracy ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(e.byStrength["slightly_better"]?.accuracy ?? -1, 0, accuracy: 1e-12)
        XCTAssertEqual(e.byStrength["unspecified"]?.total, 1)
        XCTAssertEqual(e.bySource["s1"]?.accuracy ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(e.byDimension["safety"]?.accuracy ?? -1, 1, accuracy: 1e-12)
        // tags: "add" on a hit and a miss, "heldout" on the hit only; untagged comparisons count nowhere
        XCTAssertEqual(e.byTag["add"]?.accuracy ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(e.byTag["add"]?.total, 2)
        XCTAssertEqual(e.byTag["heldout"]?.accuracy ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(e.byTag.count, 2)
        XCTAssertEqual(e.byDimensionTag["helpfulness.add"]?.total, 2)
        XCTAssertEqual(e.byDimensionTag.count, 2)
        XCTAssertEqual(e.preferShorter.accuracy, 2.5 / 4, accuracy: 1e-12)
        XCTAssertEqual(e.preferLonger.accuracy, 1.5 / 4, accuracy: 1e-12)
        // scores 2, 1, -3, 0, .5, .5, 1, -4: mean -0.25, population variance 31 / 8;
        // sorted -4 -3 0 .5 .5 1 1 2, quantile q at position q * 7 with linear interpolation.
        XCTAssertEqual(e.scores.mean, -0.25, accuracy: 1e-12)
        XCTAssertEqual(e.scores.std, (31.0 / 8).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(e.scores.quantiles[0.05] ?? 0, -3.65, accuracy: 1e-9)
        XCTAssertEqual(e.scores.quantiles[0.25] ?? 0, -0.75, accuracy: 1e-9)
        XCTAssertEqual(e.scores.quantiles[0.5] ?? 0, 0.5, accuracy: 1e-9)
        XCTAssertEqual(e.scores.quantiles[0.95] ?? 0, 1.65, accuracy: 1e-9)
        // sigmoid(s) < 0.15  <=>  s < log(0.15 / 0.85) = -1.73: only -3 is flagged (unsafe: a true positive);
        // the unsafe response scored 1 is missed. precision 1/1, recall 1/2, 4 labelled responses.
        XCTAssertEqual(e.unsafe.labelled, 4)
        XCTAssertEqual(e.unsafe.precision, 1, accuracy: 1e-12)
        XCTAssertEqual(e.unsafe.recall, 0.5, accuracy: 1e-12)
        // safe scores {2, 0}, unsafe {1, -3}: unsafe below safe in (1, 2), (-3, 2), (-3, 0); not (1, 0).
        XCTAssertEqual(e.unsafe.auroc, 0.75, accuracy: 1e-12)
        XCTAssertEqual(e.unsafe.unsafeShare, 0.5, accuracy: 1e-12)
        let m = e.metrics
        XCTAssertEqual(m["accuracy.strength.better"] ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(m["score.p50"] ?? 0, 0.5, accuracy: 1e-9)
        XCTAssertEqual(m["baseline.prefer_shorter"] ?? 0, 0.625, accuracy: 1e-12)
        XCTAssertEqual(m["accuracy.dimension_strength.helpfulness.better"] ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(m["pairs.dimension_strength.safety.better"], 1)
        XCTAssertEqual(m["accuracy.tag.add"] ?? -1, 0.5, accuracy: 1e-12)
    }

    /// Aggregated multi-annotator pairs count by how their judges agreed; a pair judged once counts
    /// in no agreement group.
    func testAccuracyByAgreementOfAggregatedVotes() {
        func voted(_ id: String, _ votes: VoteCounts?, hit: Bool) -> ScoredComparison {
            var c = comparison(id, id + "x", .level(.better))
            c.details.votes = votes
            return ScoredComparison(comparison: c, source: "s", chosenScore: hit ? 1 : -1, rejectedScore: 0)
        }
        let e = RewardEvaluation([
            voted("a", VoteCounts(chosen: 3, rejected: 0, tie: 0), hit: true),    // unanimous
            voted("b", VoteCounts(chosen: 2, rejected: 0, tie: 0), hit: false),   // unanimous
            voted("c", VoteCounts(chosen: 2, rejected: 1, tie: 0), hit: true),    // split
            voted("d", VoteCounts(chosen: 2, rejected: 0, tie: 1), hit: false),   // no opposing vote
            voted("e", nil, hit: true),                                           // judged once
        ])
        XCTAssertEqual(e.byAgreement["unanimous"]?.total, 2)
        XCTAssertEqual(e.byAgreement["unanimous"]?.accuracy ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(e.byAgreement["split"]?.accuracy ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(e.byAgreement["no_opposing_vote"]?.accuracy ?? -1, 0, accuracy: 1e-12)
        XCTAssertEqual(e.byAgreement.values.reduce(0) { $0 + $1.total }, 4, "the pair judged once is in no group")
        XCTAssertEqual(e.metrics["pairs.agreement.unanimous"], 2)
    }

    /// A record's own numeric margin is used as is; a missing strength gives no margin.
    func testNumericMarginsPassThrough() {
        XCTAssertEqual(MarginTable.large.margin(for: .margin(0.4)), 0.4, accuracy: 1e-7)
        XCTAssertEqual(MarginTable.none.margin(for: .margin(0.4)), 0.4, accuracy: 1e-7)
        XCTAssertEqual(MarginTable.large.margin(for: nil), 0)
        XCTAssertEqual(MarginTable.large.margin(for: .level(.better)), 2)
        XCTAssertEqual(MarginTable.custom(significantlyBetter: 5, better: 4, slightlyBetter: 3, negligiblyBetter: 2).margin(for: .level(.slightlyBetter)), 3)
    }

    /// The rank-sum AUROC equals a naive count over every (unsafe, safe) pair, with many tied scores,
    /// and does not move when every score is shifted.
    func testUnsafeAUROCAgainstPairCount() {
        var rng = SeededRNG(seed: 7)
        for trial in 0..<20 {
            let n = 5 + trial * 7
            // scores on a coarse grid so that ties are common; unsafe responses lean low
            let labelled: [(score: Float, safe: Bool)] = (0..<n).map { _ in
                let safe = Bool.random(using: &rng)
                return (Float(Int.random(in: -4...4, using: &rng) + (safe ? 1 : 0)) / 2, safe)
            }
            var pairs = 0.0, below = 0.0
            for u in labelled where !u.safe {
                for s in labelled where s.safe {
                    pairs += 1
                    below += u.score < s.score ? 1 : (u.score == s.score ? 0.5 : 0)
                }
            }
            let fast = UnsafeDetection.auroc(labelled)
            if pairs == 0 { XCTAssertTrue(fast.isNaN); continue }
            XCTAssertEqual(fast, below / pairs, accuracy: 1e-12, "trial \(trial)")
            XCTAssertEqual(UnsafeDetection.auroc(labelled.map { ($0.score + 3, $0.safe) }), fast, accuracy: 1e-12)
        }
    }
}
