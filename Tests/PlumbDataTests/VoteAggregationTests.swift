// Repeated judgements of one pair aggregated (majority vote, agreement as strength), on a real
// PandaLM sample, a hand-written Auto-J file, MT-Bench human judgments with `turn`, and the
// existing A/B layout; the count identity read = accepted + quarantined + duplicates + ties + aggregated.
import PlumbTestSupport
import XCTest
@testable import PlumbData
import PlumbStore

/// A file under Tests/PlumbDataTests/Fixtures/real (cut from public repositories; see the README there).
func realSample(_ name: String) -> String { fixture("real/" + name) }

final class VoteAggregationTests: XCTestCase {
    /// The decision table of `VoteAggregator`, one case per row, from a record whose chosen side
    /// got `mine` votes.
    func testAgreementTable() {
        let base = Comparison(id: "x", prompt: Prompt(messages: [.user("q")]), chosen: "A", rejected: "B", annotator: "j1",
                              source: SourceRef(file: "f", line: 1))
        func outcome(_ mine: Int, _ other: Int, _ ties: Int, _ bothBad: Int = 0) -> (String, PreferenceStrength?, TieKind?) {
            let c = VoteAggregator.aggregate(base, forChosen: mine, forRejected: other, ties: ties, bothBad: bothBad)
            return (c.chosen, c.strength, c.details.tie)
        }
        XCTAssertTrue(outcome(3, 0, 0) == ("A", .level(.significantlyBetter), nil))   // unanimous
        XCTAssertTrue(outcome(2, 0, 1) == ("A", .level(.better), nil))                // no opposing vote, a tie
        XCTAssertTrue(outcome(2, 1, 0) == ("A", .level(.slightlyBetter), nil))        // split
        XCTAssertTrue(outcome(1, 2, 0) == ("B", .level(.slightlyBetter), nil))        // the majority flips the record
        XCTAssertTrue(outcome(1, 1, 1) == ("A", nil, .tie))                            // equal sides: a tie record
        XCTAssertTrue(outcome(1, 0, 2) == ("A", nil, .tie))                            // ties outnumber the winner
        XCTAssertTrue(outcome(0, 0, 1, 2) == ("A", nil, .bothBad))                     // mostly both bad
        let flipped = VoteAggregator.aggregate(base, forChosen: 1, forRejected: 2, ties: 0, bothBad: 0)
        XCTAssertEqual(flipped.details.votes, VoteCounts(chosen: 2, rejected: 1, tie: 0))
        XCTAssertNil(flipped.annotator)
    }

    /// WeOpenML/PandaLM data/testset-v1.json, 8 rows with every vote pattern of the file: three
    /// annotators per pair coded 0 tie, 1 response1, 2 response2; one row's response2 is a JSON
    /// `false` (the real file has 6 such cells).
    func testPandaLMRealSampleAggregatesThreeAnnotators() throws {
        let result = try importFiles([realSample("pandalm-testset-v1.sample.json")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .pandaLM)
        XCTAssertTrue(counts.detection.contains("'annotator1', 'annotator2', 'annotator3'"), counts.detection)
        XCTAssertEqual(counts.rowsRead, 8)
        // 7 rows x 3 votes + 1 quarantined row = 22 = 5 accepted + 2 ties + 14 folded + 1 quarantined.
        assertCounts(counts, read: 22, accepted: 5, quarantined: [.wrongType: 1], aggregated: 14)
        XCTAssertEqual(counts.ties, ["tie": 2])
        XCTAssertEqual(counts.agreement, ["unanimous": 2, "split": 2, "no_opposing_vote": 1, "tie": 2])
        let byVotes = Dictionary(grouping: result.comparisons) { c in c.details.votes.map { "\($0.chosen)-\($0.rejected)-\($0.tie)" } ?? "" }
        XCTAssertEqual(byVotes.keys.sorted(), ["2-0-1", "2-1-0", "3-0-0"])
        XCTAssertEqual(byVotes["3-0-0"]?.map(\.strength), [.level(.significantlyBetter), .level(.significantlyBetter)])
        XCTAssertEqual(byVotes["2-1-0"]?.map(\.strength), [.level(.slightlyBetter), .level(.slightlyBetter)])
        XCTAssertEqual(byVotes["2-0-1"]?.map(\.strength), [.level(.better)])
        // idx 88 (votes 2, 1, 1): response1 wins 2 to 1, checked against the raw row.
        let rows = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: realSample("pandalm-testset-v1.sample.json")))).arrayValue!
        let row88 = rows.first { $0["idx"]?.numberValue == 88 }!
        let c88 = result.comparisons.first { $0.chosen == row88["response1"]!.stringValue! }!
        XCTAssertEqual(c88.rejected, row88["response2"]!.stringValue!)
        XCTAssertEqual(c88.details.votes, VoteCounts(chosen: 2, rejected: 1, tie: 0))
        XCTAssertTrue(c88.prompt.messages[0].content.hasPrefix(row88["instruction"]!.stringValue!), c88.prompt.text)
        XCTAssertEqual(result.quarantine.first?.field, "response2")
    }

    func testAutoJKeysWithSpacesAndTies() throws {
        let result = try importFiles([fixture("autoj-pairwise.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .autoJ)
        assertCounts(counts, read: 4, accepted: 2, quarantined: [.invalidValue: 1])
        XCTAssertEqual(counts.ties, ["tie": 1])
        XCTAssertEqual(result.comparisons[0].chosen, "I was promoted twice in my first week at a sandwich shop; any success stories?")  // label 1
        XCTAssertEqual(result.comparisons[1].chosen, "def add(a, b):\n    return a + b")                                              // label 0
        XCTAssertEqual(result.comparisons[1].prompt.tags, ["code_generation"])
        XCTAssertEqual(result.quarantine[0].field, "label")
    }

    /// MT-Bench human judgments: three judges on turn 1 (2 to 1), four on turn 2 (3 and a tie),
    /// and a pair judged once as a tie. Turn 1 compares the first answers alone.
    func testMTBenchJudgmentsByTurn() throws {
        let result = try importFiles([fixture("mt-bench-human.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .arena)
        assertCounts(counts, read: 8, accepted: 2, aggregated: 5)
        XCTAssertEqual(counts.ties, ["tie": 1])
        XCTAssertEqual(counts.agreement, ["split": 1, "no_opposing_vote": 1])
        let turn1 = result.comparisons.first { $0.id == "81:turn1" }!
        XCTAssertEqual(turn1.chosen, "Aloha! Hawaii's beaches and culture ...")
        XCTAssertNil(turn1.details.chosenHistory)
        XCTAssertEqual(turn1.strength, .level(.slightlyBetter))
        XCTAssertEqual(turn1.details.votes, VoteCounts(chosen: 2, rejected: 1, tie: 0))
        let turn2 = result.comparisons.first { $0.id == "81" }!
        XCTAssertEqual(turn2.chosen, "A trip to Hawaii ...")
        XCTAssertEqual(turn2.details.chosenHistory?.count, 2)
        XCTAssertEqual(turn2.strength, .level(.better))
        XCTAssertEqual(turn2.details.votes, VoteCounts(chosen: 3, rejected: 0, tie: 1))
        XCTAssertEqual(turn2.details.chosenModel, "gpt-4")
    }

    /// The A/B layout already supported: two annotators disagree, a third agrees with the first;
    /// before aggregation the second and third were kept or dropped by annotator name.
    func testExistingABLayoutAggregates() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "ab.jsonl", """
        {"question": "Best sorting algorithm for nearly sorted data?", "answer_a": "Insertion sort.", "answer_b": "Bogosort.", "overall_preference": -2, "annotator": "r1"}
        {"question": "Best sorting algorithm for nearly sorted data?", "answer_a": "Bogosort.", "answer_b": "Insertion sort.", "overall_preference": -1, "annotator": "r2"}
        {"question": "Best sorting algorithm for nearly sorted data?", "answer_a": "Insertion sort.", "answer_b": "Bogosort.", "overall_preference": -3, "annotator": "r3"}
        {"question": "Best sorting algorithm for nearly sorted data?", "answer_a": "Insertion sort.", "answer_b": "Bogosort.", "overall_preference": -3, "annotator": "r3"}
        """)
        let result = try importFiles([path])
        assertCounts(result.sources[0], read: 4, accepted: 1, aggregated: 3)
        XCTAssertEqual(result.comparisons.map(\.chosen), ["Insertion sort."])
        XCTAssertEqual(result.comparisons[0].details.votes, VoteCounts(chosen: 3, rejected: 1, tie: 0))
        XCTAssertEqual(result.comparisons[0].strength, .level(.slightlyBetter))
    }
}

private func == (a: (String, PreferenceStrength?, TieKind?), b: (String, PreferenceStrength?, TieKind?)) -> Bool {
    a.0 == b.0 && a.1 == b.1 && a.2 == b.2
}
