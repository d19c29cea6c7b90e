// Arena battles from fixtures written to the public layouts: the Kaggle competition's train.csv
// (JSON-encoded turn lists in CSV cells, one-hot winners, NaN and empty cells, a null turn, broken
// JSON, a truncated last row) and LMSYS chatbot_arena_conversations as JSON Lines (`winner` names,
// both kinds of tie, a multi-turn battle, a cut-short last line).
import PlumbTestSupport
import XCTest
@testable import PlumbData
import PlumbStore

/// A fixture file under Tests/PlumbDataTests/Fixtures.
func fixture(_ name: String) -> String {
    packageRoot.appendingPathComponent("Tests/PlumbDataTests/Fixtures").appendingPathComponent(name).path
}

/// The records of one output set of a stage directory.
func readOutput<T: Decodable>(_ type: T.Type, _ name: String, in stage: URL) throws -> [T] {
    try ShardLocator.locate(stage).filter { $0.name == name }.flatMap { try ShardReader(files: $0.files).readAll(T.self) }
}

final class ArenaImportTests: XCTestCase {
    func testKaggleCSVWithNoFlags() throws {
        let result = try importFiles([fixture("arena-kaggle.csv")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .arena)
        XCTAssertTrue(counts.detection.contains("one-hot"), counts.detection)
        XCTAssertEqual(counts.columns["prompt"], "prompt")
        XCTAssertEqual(counts.columns["winner_tie"], "winner_tie")
        // 9 rows: 4 comparisons, 1 tie set aside, 4 quarantined (a null turn, all-NaN winners,
        // a prompt cell that is broken JSON, the truncated last row).
        XCTAssertEqual(counts.ties, ["tie": 1])
        assertCounts(counts, read: 9, accepted: 4, quarantined: [.missingField: 2, .invalidJSON: 1, .wrongColumnCount: 1])
        let byID = Dictionary(uniqueKeysWithValues: result.comparisons.map { ($0.id, $0) })
        let single = try XCTUnwrap(byID["30192"])
        XCTAssertEqual(single.prompt.messages, [.user("What is the capital of France?")])
        XCTAssertEqual(single.chosen, "The capital of France is Paris.")
        XCTAssertEqual(single.details.chosenModel, "gpt-4-1106-preview")
        XCTAssertEqual(single.details.rejectedModel, "gpt-4-0613")
        XCTAssertNil(single.details.chosenHistory)
        // Multi-turn, B wins: the prompt is the first user turn, each side keeps its own first answer.
        let multi = try XCTUnwrap(byID["53567"])
        XCTAssertEqual(multi.prompt.messages, [.user("Hi")])
        XCTAssertEqual(multi.details.chosenHistory, [.assistant("Hey there, how can I help?"), .user("Tell me a joke about cats")])
        XCTAssertEqual(multi.details.rejectedHistory, [.assistant("Hello!"), .user("Tell me a joke about cats")])
        XCTAssertEqual(multi.chosen, "Why did the cat sit on the computer? To keep an eye on the mouse.")
        XCTAssertEqual(multi.chosenPrompt.last, .user("Tell me a joke about cats"))
        XCTAssertEqual(multi.details.chosenModel, "gpt-4-0613")
        // NaN beside a 1 still decides; commas, quotes, a newline and non-ASCII survive JSON-in-CSV.
        XCTAssertEqual(byID["198779"]?.chosen, "Boil water, add the egg, cook for nine minutes, then cool it in cold water.")
        XCTAssertEqual(byID["313413"]?.chosen, "apple, pear, plum\nand a \"bonus\": café au lait?")
        let problems = Dictionary(uniqueKeysWithValues: result.quarantine.map { ($0.source.line, $0) })
        XCTAssertEqual(problems[5]?.field, "response_b[1]")
        XCTAssertEqual(problems[7]?.field, "winner")
        XCTAssertEqual(problems[9]?.field, "prompt")
        XCTAssertEqual(problems[9]?.reason, .invalidJSON)
        XCTAssertEqual(problems[10]?.reason, .wrongColumnCount)
    }

    func testKeepTiesWritesTieRecords() throws {
        let result = try importFiles([fixture("arena-kaggle.csv")]) { $0.keepTies = true }
        assertCounts(result.sources[0], read: 9, accepted: 5, quarantined: [.missingField: 2, .invalidJSON: 1, .wrongColumnCount: 1])
        XCTAssertEqual(result.sources[0].accepted(.comparison), 4)
        XCTAssertEqual(result.sources[0].acceptedByKind["tie"], 1)
        XCTAssertEqual(result.ties.map(\.id), ["65089"])
        XCTAssertEqual(result.ties[0].details.tie, .tie)
        XCTAssertFalse(result.comparisons.contains { $0.id == "65089" }, "a tie is never a preference")
    }

    func testLMSYSConversationsJSONLines() throws {
        let result = try importFiles([fixture("arena-conversations.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .arena)
        XCTAssertEqual(counts.ties, ["tie": 1, "both_bad": 1])
        assertCounts(counts, read: 6, accepted: 2, quarantined: [.invalidValue: 1, .invalidJSON: 1])
        let first = result.comparisons[0]
        XCTAssertEqual(first.id, "58210e39b3fd4441a2bd4a518bb44c2d")
        XCTAssertEqual(first.annotator, "arena_user_973")
        XCTAssertEqual(first.details.chosenModel, "koala-13b")
        XCTAssertTrue(first.chosen.hasPrefix("OpenCL is an open standard"))
        let twoTurns = result.comparisons[1]
        XCTAssertEqual(twoTurns.prompt.messages, [.user("Count from 1 to 3.")])
        XCTAssertEqual(twoTurns.details.chosenHistory, [.assistant("1, 2, 3."), .user("Now backwards.")])
        XCTAssertEqual(twoTurns.chosen, "3, 2, 1.")
        XCTAssertEqual(result.quarantine.map(\.field), ["winner", nil])
        XCTAssertEqual(result.quarantine.map(\.source.line), [5, 6])

        let kept = try importFiles([fixture("arena-conversations.jsonl")]) { $0.keepTies = true }
        XCTAssertEqual(kept.ties.map(\.details.tie), [.bothBad, .tie])
        XCTAssertTrue(kept.sources[0].isBalanced)
    }

    func testTieRecordsGoToTheirOwnShardSet() throws {
        let directory = try scratchDirectory(self)
        var options = ImportOptions()
        options.keepTies = true
        options.splits = SplitFractions(validation: 0, test: 0)
        let result = try Importer(options: options).importFiles([fixture("arena-conversations.jsonl")])
        let stage = directory.appendingPathComponent("run/import")
        let manifest = try ImportStage.write(result, to: stage, config: .init(format: nil, options: options), inputs: [])
        let outputs = Dictionary(uniqueKeysWithValues: manifest.outputs.map { ($0.name, $0.records) })
        XCTAssertEqual(outputs["comparisons-train"], 2)
        XCTAssertEqual(outputs["ties-train"], 2)
        let ties = try readOutput(Comparison.self, "ties-train", in: stage)
        XCTAssertEqual(ties.map(\.details.tie), [.bothBad, .tie])
        let comparisons = try readOutput(Comparison.self, "comparisons-train", in: stage)
        XCTAssertEqual(comparisons[1].details.chosenHistory, [.assistant("1, 2, 3."), .user("Now backwards.")], "history survives the round trip")
    }

    /// Python's json.dumps writes a missing float as a bare NaN: read as a missing value, not a broken row.
    func testBareNaNInJSONLines() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "kaggle.jsonl", """
        {"id": 1, "model_a": "m1", "model_b": "m2", "prompt": "[\\"Hi\\"]", "response_a": "[\\"Hello\\"]", "response_b": "[\\"Yo\\"]", "winner_model_a": NaN, "winner_model_b": 1, "winner_tie": NaN}
        {"id": 2, "model_a": "m1", "model_b": "m2", "prompt": "[\\"Bye\\"]", "response_a": "[\\"Ciao\\"]", "response_b": "[\\"Later\\"]", "winner_model_a": NaN, "winner_model_b": NaN, "winner_tie": NaN}
        {"id": 3, "model_a": "m1", "model_b": "m2", "prompt": "[\\"Cut\\"]", "winner_model_a": NaN,
        """)
        let result = try importFiles([path])
        assertCounts(result.sources[0], read: 3, accepted: 1, quarantined: [.missingField: 1, .invalidJSON: 1])
        XCTAssertEqual(result.comparisons[0].chosen, "Yo")
        XCTAssertEqual(result.quarantine.map(\.field), ["winner", nil])
        XCTAssertEqual(result.quarantine.map(\.source.line), [2, 3])
    }

    func testForcedFormatAndClearFileError() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "battles.jsonl", """
        {"model_a": "m1", "model_b": "m2", "winner": "model_a", "prompt": "Hi", "response_a": "Hello", "response_b": "Yo"}
        """)
        let result = try importFiles([path], format: .arena)
        XCTAssertEqual(result.comparisons.map(\.chosen), ["Hello"])
        XCTAssertEqual(result.sources[0].detection, "given with --format")
        let unclosed = try writeFile(directory, "cut.csv", "id,model_a,model_b,prompt,response_a,response_b,winner_model_a,winner_model_b,winner_tie\n1,a,b,\"[\"\"cut")
        XCTAssertThrowsError(try importFiles([unclosed])) { error in
            XCTAssertTrue("\(error)".contains("cut.csv"), "\(error)")
            XCTAssertTrue("\(error)".contains("never closed"), "\(error)")
        }
    }
}
