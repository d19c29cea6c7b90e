// Unpaired feedback (KTO labels, thumbs), safety labels as 0/1 and names, HelpSteer ratings
// paired by a weighted sum, PKU-SafeRLHF severities, and --columns on JSON rows.
import PlumbTestSupport
import XCTest
@testable import PlumbData
import PlumbStore

final class FeedbackAndRatingImportTests: XCTestCase {
    /// TRL's unpaired preference layout: conversational and plain prompts; a label that is not a judgement.
    func testKTOLabels() throws {
        let result = try importFiles([fixture("kto.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .feedback)
        assertCounts(counts, read: 4, accepted: 3, quarantined: [.invalidValue: 1])
        XCTAssertEqual(result.feedback.map(\.desirable), [true, false, true])
        XCTAssertEqual(result.feedback.map(\.origin), [.label, .label, .label])
        XCTAssertEqual(result.feedback[0].prompt.messages, [.user("What color is the sky?")])
        XCTAssertEqual(result.feedback[0].response, "It is blue on a clear day.")
        XCTAssertEqual(result.quarantine[0].field, "label")
        // turbo-alignment's unpaired layout: a context of messages, an answer message, is_desirable.
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "ta.jsonl", """
        {"id": 0, "context": [{"role": "user", "content": "Can you play chess?"}], "answer": {"role": "bot", "content": "Yes, of course"}, "is_desirable": true}
        """)
        let other = try importFiles([path])
        XCTAssertEqual(other.sources[0].format, .feedback)
        XCTAssertEqual(other.feedback.map(\.response), ["Yes, of course"])
        XCTAssertEqual(other.feedback.map(\.origin), [.label])
    }

    func testThumbsLogCSV() throws {
        let result = try importFiles([fixture("thumbs.csv")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .feedback)
        assertCounts(counts, read: 7, accepted: 6, quarantined: [.invalidValue: 1])
        XCTAssertEqual(result.feedback.map(\.desirable), [true, false, true, false, true, false])
        XCTAssertEqual(Set(result.feedback.map(\.origin)), [.thumbs])
        XCTAssertEqual(result.feedback[0].annotator, "u1")
        XCTAssertEqual(result.quarantine[0].field, "thumbs")
    }

    /// BeaverTails-style `is_safe` as 1/0, a boolean name and `unsafe`; 2 is no label.
    func testSafetyLabelAsNumbersAndNames() throws {
        let result = try importFiles([fixture("beavertails-01.csv")])
        assertCounts(result.sources[0], read: 5, accepted: 4, quarantined: [.invalidValue: 1])
        XCTAssertEqual(result.labelledResponses.map(\.safe), [true, false, true, false])
        XCTAssertEqual(result.labelledResponses[1].categories, ["non_violent_unethical_behavior"])
        XCTAssertEqual(result.quarantine[0].field, "is_safe")
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "bt.jsonl", """
        {"prompt": "q", "response": "safe answer", "is_safe": 1}
        {"prompt": "q", "response": "unsafe answer", "is_safe": 0}
        """)
        XCTAssertEqual(try importFiles([path]).labelledResponses.map(\.safe), [true, false])
    }

    /// HelpSteer: 3 + 3 responses, one rated 5 on a 0-4 scale. Pairs by helpfulness (default)
    /// with the gap as margin, or by a weighted sum.
    func testHelpSteerRatingsAndPairs() throws {
        let result = try importFiles([fixture("helpsteer.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .ratings)
        assertCounts(counts, read: 6, accepted: 5, quarantined: [.outOfScale: 1])
        XCTAssertEqual(result.quarantine[0].field, "helpfulness")
        XCTAssertTrue(result.quarantine[0].detail.contains("outside its scale 0-4"), result.quarantine[0].detail)
        XCTAssertEqual(result.ratings[0].scores, ["helpfulness": 4, "correctness": 4, "coherence": 4, "complexity": 1, "verbosity": 1])
        let pairs = result.comparisons
        // Haiku: helpfulness 4, 1, 3 -> 4>1 (3), 4>3 (1), 3>1 (2); TCP: 4, 1 -> 4>1 (3).
        XCTAssertEqual(pairs.map(\.strength), [.margin(3), .margin(1), .margin(2), .margin(3)])
        XCTAssertEqual(counts.derived(.comparison), 4)
        XCTAssertEqual(pairs[0].chosen, "Soft rain on the roof / the garden drinks in silence / puddles hold the sky")
        let weighted = try importFiles([fixture("helpsteer.jsonl")]) {
            $0.ratingWeights = RatingWeights(["helpfulness": 0.5, "correctness": 1])
        }
        // Haiku: 6, 3.5, 5.5 -> margins 2.5, 0.5, 2; TCP: 6, 2.5 -> 3.5.
        XCTAssertEqual(weighted.comparisons.map(\.strength), [.margin(2.5), .margin(0.5), .margin(2), .margin(3.5)])
    }

    /// The shared sample is PKU-SafeRLHF's current layout: severities 0-3 set the safety strength.
    func testPKUSeveritySetsSafetyStrength() throws {
        let path = try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl")
        let result = try importFiles([path])
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        let safety = result.comparisons.filter { $0.dimension == .safety }
        for (row, comparison) in zip(rows, safety) {
            let safer = Int(row["safer_response_id"]!.numberValue!)
            let chosen = Int(row["response_\(safer)_severity_level"]!.numberValue!)
            let rejected = Int(row["response_\(1 - safer)_severity_level"]!.numberValue!)
            XCTAssertEqual(comparison.strength, .level(PKUSafeRLHFImporter.safetyLevel(severityGap: rejected - chosen)))
            XCTAssertEqual(comparison.details.chosenSeverity, chosen)
        }
        // Line 1: both responses severity 3 with Endangering National Security, Economic Crime, Cybercrime.
        XCTAssertEqual(safety[0].strength, .level(.negligiblyBetter))
        XCTAssertEqual(safety[0].details.rejectedHarm, ["Cybercrime", "Economic Crime", "Endangering National Security"])
        XCTAssertTrue(result.comparisons.filter { $0.dimension == .helpfulness }.allSatisfy { $0.strength == nil })
        XCTAssertEqual(PKUSafeRLHFImporter.safetyLevel(severityGap: 3), .significantlyBetter)
        XCTAssertEqual(PKUSafeRLHFImporter.safetyLevel(severityGap: 1), .slightlyBetter)
    }

    func testColumnsOnJSONRows() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "custom.jsonl", """
        {"q": "What is 2+2?", "good": "4", "bad": "5"}
        {"q": "Capital of Peru?", "good": "Lima", "bad": "Cusco"}
        """)
        XCTAssertThrowsError(try importFiles([path])) { error in
            XCTAssertTrue("\(error)".contains("fields [bad, good, q]; map them to a known layout with --columns prompt=q,chosen=good,rejected=bad"), "\(error)")
        }
        let result = try importFiles([path]) { $0.columnMapping = ["prompt": "q", "chosen": "good", "rejected": "bad"] }
        XCTAssertEqual(result.sources[0].format, .trl)
        assertCounts(result.sources[0], read: 2, accepted: 2)
        XCTAssertEqual(result.comparisons.map(\.chosen), ["4", "Lima"])
        // Feedback through the mapping, and a mapped column the rows lack.
        let thumbs = try writeFile(directory, "log.jsonl", #"{"question": "hi", "answer": "hello", "reaction": "up"}"#)
        let feedback = try importFiles([thumbs]) { $0.columnMapping = ["label": "reaction"] }
        XCTAssertEqual(feedback.sources[0].format, .feedback)
        XCTAssertEqual(feedback.feedback.map(\.desirable), [true])
        XCTAssertThrowsError(try importFiles([thumbs]) { $0.columnMapping = ["label": "thumb"] }) { error in
            XCTAssertTrue("\(error)".contains("--columns maps 'label' to 'thumb', which the first row does not have"), "\(error)")
        }
    }
}
