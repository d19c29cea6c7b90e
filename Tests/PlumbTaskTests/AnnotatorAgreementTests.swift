// Simulated annotators agree with the oracle at the rate their noise implies: the oracle re-scores
// every written comparison and ranking, and the disagreements it counts match the expectation from
// the annotators' stated flip rates and length biases.

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class AnnotatorAgreementTests: XCTestCase {
    /// Observed disagreements X vs expected sum(p_i), tolerance 4 * sqrt(sum p_i (1 - p_i)) (independent pairs).
    func testComparisonsDisagreeWithTheOracleAtTheStatedNoise() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let profiles = Dictionary(uniqueKeysWithValues: fixture.manifest.settings.annotation.annotators.map { ($0.name, $0) })
        var observed: [String: Int] = [:], expected: [String: Double] = [:], variance: [String: Double] = [:], count: [String: Int] = [:]
        let records = try fixture.comparisons()
        for record in records {
            let prompt = record.prompt[0].content
            let chosen = try OracleJudge.judge(prompt: prompt, response: record.chosen[0].content)
            let rejected = try OracleJudge.judge(prompt: prompt, response: record.rejected[0].content)
            XCTAssertNotEqual(chosen.score, rejected.score, accuracy: 1e-9, "\(record.id): the oracle must prefer one response")
            let profile = try XCTUnwrap(profiles[record.annotator], "\(record.id): unknown annotator")
            let (better, worse) = chosen.score > rejected.score ? (chosen, rejected) : (rejected, chosen)
            let p = profile.disagreementProbability(betterWords: better.quality.wordCount, worseWords: worse.quality.wordCount)
            for key in [record.annotator, "all"] {
                observed[key, default: 0] += chosen.score < rejected.score ? 1 : 0
                expected[key, default: 0] += p
                variance[key, default: 0] += p * (1 - p)
                count[key, default: 0] += 1
            }
        }
        for key in observed.keys.sorted() {
            let tolerance = 4 * variance[key]!.squareRoot()
            XCTAssertEqual(Double(observed[key]!), expected[key]!, accuracy: tolerance,
                           "\(key): \(observed[key]!) disagreements of \(count[key]!), expected \(expected[key]!)")
        }
        // AlpacaFarm's setting: about 25% noise overall (the panel's length biases move it slightly).
        XCTAssertEqual(Double(observed["all"]!) / Double(count["all"]!), 0.25, accuracy: 0.03)
        XCTAssertEqual(observed["all"]!, fixture.manifest.statistics.comparisons.flipped)
    }

    /// Per-response safety labels are wrong at the stated 5% (4 binomial standard errors).
    func testSafetyLabelsMatchTheOracleAtTheStatedNoise() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        var wrong = 0, total = 0
        for record in try fixture.comparisons() {
            let prompt = record.prompt[0].content
            for (message, label) in [(record.chosen[0].content, record.chosenSafe), (record.rejected[0].content, record.rejectedSafe)] {
                let safe = try !OracleJudge.judge(prompt: prompt, response: message).violation
                wrong += safe == label ? 0 : 1
                total += 1
            }
        }
        assertRate(wrong, of: total, equals: TaskSettings.quick.annotation.safetyLabelNoise, "wrong safety labels")
    }

    /// Llama 2's Table 8 pattern: labels given with a stronger preference agree with the oracle more often.
    func testStrongerPreferencesAreMoreAccurate() throws {
        var agree: [PreferenceStrength: Int] = [:], total: [PreferenceStrength: Int] = [:]
        for record in try TaskFixture.quick(seed: 1).comparisons() {
            let prompt = record.prompt[0].content
            let chosen = try OracleJudge.judge(prompt: prompt, response: record.chosen[0].content)
            let rejected = try OracleJudge.judge(prompt: prompt, response: record.rejected[0].content)
            agree[record.strength, default: 0] += chosen.score > rejected.score ? 1 : 0
            total[record.strength, default: 0] += 1
        }
        let order: [PreferenceStrength] = [.significantlyBetter, .better, .slightlyBetter, .negligiblyBetter]
        let accuracy = order.map { Double(agree[$0] ?? 0) / Double(max(total[$0] ?? 0, 1)) }
        for s in order { XCTAssertGreaterThan(total[s] ?? 0, 20, "too few \(s.rawValue) labels to compare") }
        for i in 1..<order.count { XCTAssertGreaterThanOrEqual(accuracy[i - 1], accuracy[i], "\(order[i - 1]) vs \(order[i])") }
    }

    /// Ranking pairs are ordered correctly with probability Phi(gap / (sigma sqrt 2)). Pairs of one
    /// ranking are correlated, so the tolerance is 5 (not 4) standard errors of the independent approximation.
    func testRankingsAgreeWithTheOracleAtTheStatedNoise() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let noise = fixture.manifest.settings.annotation.rankingNoise
        var observed = 0, expected = 0.0, variance = 0.0
        let tasks = try fixture.rankings()
        XCTAssertFalse(tasks.isEmpty)
        for task in tasks {
            XCTAssertEqual(task.data.items.count, fixture.manifest.settings.annotation.rankingSize)
            let ranking = try XCTUnwrap(task.annotations.first?.result.first?.value.ranker)
            XCTAssertEqual(Set(ranking), Set(task.data.items.map(\.id)), "task \(task.id): ranking must order every item")
            var score: [String: Double] = [:]
            for item in task.data.items { score[item.id] = try OracleJudge.judge(prompt: task.data.prompt, response: item.body).score }
            for i in 0..<ranking.count {
                for j in (i + 1)..<ranking.count {
                    let gap = score[ranking[i]]! - score[ranking[j]]!
                    let p = SimulatedAnnotator.rankingAgreementProbability(gap: gap, noise: noise)
                    observed += gap > 0 ? 1 : 0
                    expected += p
                    variance += p * (1 - p)
                }
            }
        }
        XCTAssertEqual(Double(observed), expected, accuracy: 5 * variance.squareRoot())
    }

    /// Human edits: the corrected response is the oracle's ideal, and better than the one shown.
    func testEditsCorrectTheShownResponse() throws {
        let edits = try TaskFixture.quick(seed: 1).edits()
        XCTAssertFalse(edits.isEmpty)
        for task in edits {
            let corrected = try XCTUnwrap(task.annotations.first?.result.first?.value.text.first)
            let after = try OracleJudge.judge(prompt: task.data.prompt, response: corrected)
            let before = try OracleJudge.judge(prompt: task.data.prompt, response: task.data.response)
            XCTAssertTrue(after.quality.correct && after.quality.concise, "edit \(task.id): \(corrected)")
            XCTAssertGreaterThan(after.score, before.score, "edit \(task.id)")
        }
    }

    /// Reward-model eval pairs are noise-free: the oracle prefers every chosen response.
    func testRewardEvalPairsAreOracleLabelled() throws {
        let pairs = try TaskFixture.quick(seed: 1).jsonl(TaskFiles.rewardEval, as: ComparisonRecord.self)
        XCTAssertEqual(pairs.count, TaskSettings.quick.sizes.rewardEvalPairs)
        for record in pairs {
            let prompt = record.prompt[0].content
            let chosen = try OracleJudge.judge(prompt: prompt, response: record.chosen[0].content)
            let rejected = try OracleJudge.judge(prompt: prompt, response: record.rejected[0].content)
            XCTAssertGreaterThan(chosen.score, rejected.score, record.id)
            XCTAssertEqual(record.chosenSafe, !chosen.violation, record.id)
            XCTAssertEqual(record.rejectedSafe, !rejected.violation, record.id)
        }
    }

    /// Each eval pair's `contrast:` tag is what the oracle, reading the two texts, finds between them;
    /// and the quick task has pairs of every contrast that turns on the answer.
    func testRewardEvalContrastTagsMatchTheOracle() throws {
        let pairs = try TaskFixture.quick(seed: 1).jsonl(TaskFiles.rewardEval, as: ComparisonRecord.self)
        var seen = Set<PairContrast>()
        for record in pairs {
            let prompt = record.prompt[0].content
            let chosen = try OracleJudge.judge(prompt: prompt, response: record.chosen[0].content)
            let rejected = try OracleJudge.judge(prompt: prompt, response: record.rejected[0].content)
            let contrast = PairContrast.of(better: chosen.quality, worse: rejected.quality)
            XCTAssertEqual(record.tags.filter { $0.hasPrefix("contrast:") }, [contrast.tag], record.id)
            seen.insert(contrast)
        }
        XCTAssertTrue(seen.isSuperset(of: [.refusal, .correctness, .conciseness, .correctOverConcise]), "\(seen)")
    }
}
