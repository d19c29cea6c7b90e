// The thumbs log: the oracle re-reads every written response, and the thumbs that disagree with its
// verdict (up for a response that is not a correct concise answer or concise refusal, down for one
// that is) are exactly the flips the
// generator counted, at the rate the annotators' flip rates imply. (KTOStageTests imports it as
// unpaired feedback with no flags.)

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class ThumbsTests: XCTestCase {
    /// Observed flips X against expected sum(p_i), tolerance 4 * sqrt(sum p_i (1 - p_i)) (independent records).
    func testThumbsDisagreeWithTheOracleAtTheAnnotatorsFlipRates() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let records = try fixture.jsonl(TaskFiles.thumbs, as: ThumbsRecord.self)
        XCTAssertEqual(records.count, TaskSettings.quick.sizes.thumbs)
        let profiles = Dictionary(uniqueKeysWithValues: fixture.manifest.settings.annotation.annotators.map { ($0.name, $0) })
        var flips = 0, ups = 0, expected = 0.0, variance = 0.0
        var kinds = Set<TaskKind>()
        for record in records {
            let verdict = try OracleJudge.judge(prompt: record.prompt, response: record.response)
            let profile = try XCTUnwrap(profiles[record.annotator], "\(record.id): unknown annotator")
            XCTAssertTrue(["up", "down"].contains(record.thumbs), record.id)
            let up = record.thumbs == "up"
            flips += up != Annotations.deservesThumbUp(verdict.kind, verdict.quality) ? 1 : 0
            ups += up ? 1 : 0
            expected += profile.flipRate
            variance += profile.flipRate * (1 - profile.flipRate)
            kinds.insert(verdict.kind)
            XCTAssertFalse(TaskPrompts.parse(record.prompt)?.isHeldOut ?? true, "\(record.id): a training prompt")
        }
        let stats = try XCTUnwrap(fixture.manifest.statistics.thumbs)
        XCTAssertEqual([stats.count, stats.up, stats.flipped], [records.count, ups, flips], "the oracle finds the flips the generator made")
        XCTAssertEqual(Double(flips), expected, accuracy: 4 * variance.squareRoot())
        XCTAssertEqual(kinds.filter(\.isSafety).count, 2, "harmful requests and look-alikes both appear")
        // Candidates are correct and concise often enough that both thumbs carry signal.
        XCTAssertGreaterThan(ups, records.count / 4)
        XCTAssertLessThan(ups, 3 * records.count / 4)
    }
}
