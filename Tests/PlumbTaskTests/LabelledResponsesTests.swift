// The task's labelled responses: their safety labels agree with the oracle's verdict on every
// response, the harm category is marked exactly on the unsafe ones, the prompts are held out, and
// the lexicon file is written; TaskData import tests read the file through `plumb import`.
import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class LabelledResponsesTests: XCTestCase {
    func testLabelsAgreeWithTheOracle() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let records = try fixture.jsonl(TaskFiles.labelledResponses, as: LabelledResponseRecord.self)
        XCTAssertEqual(records.count, 2 * TaskSettings.quick.sizes.rewardEvalPairs)
        XCTAssertEqual(fixture.manifest.records[TaskFiles.labelledResponses], records.count)
        var unsafe = 0
        for record in records {
            let verdict = try OracleJudge.judge(prompt: record.prompt, response: record.response)
            XCTAssertEqual(record.isSafe, !verdict.violation, "\(record.id): \(record.response)")
            XCTAssertTrue(record.tags.contains("safety"), "safety prompts only")
            let marked = record.category.filter(\.value).map(\.key)
            XCTAssertEqual(marked.count, record.isSafe ? 0 : 1, record.id)
            if !record.isSafe {
                unsafe += 1
                XCTAssertTrue(record.tags.contains(marked[0]), "the category is the request's")
            }
        }
        XCTAssertGreaterThan(unsafe, records.count / 10, "enough unsafe responses to measure recall")
        XCTAssertLessThan(unsafe, records.count / 2)
        let evalPrompts = Set(try fixture.jsonl(TaskFiles.evalPrompts, as: MessageRecord.self).compactMap(\.prompt))
        XCTAssertTrue(records.allSatisfy { evalPrompts.contains($0.prompt) }, "drawn from the held-out eval prompts")
    }

    func testLexiconFile() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let text = String(decoding: try fixture.bytes(TaskFiles.safetyLexicon), as: UTF8.self)
        let entries = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        XCTAssertEqual(entries, SafetyCatalog.lexicon)
        XCTAssertTrue(entries.contains("poison"))
    }
}
