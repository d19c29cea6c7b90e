// Formats without a real sample in ../shared/data, from small fixtures written in the documented
// shapes: TRL (four variants and the task generator's extra columns), UltraFeedback, SHP, CSV,
// Alpaca, ShareGPT, message lists, Argilla's export shapes, Label Studio edits.
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class FormatTests: XCTestCase {
    func testTRLExplicitImplicitStringsAndMessages() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "trl.jsonl", """
        {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}
        {"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}], "rejected": [{"role": "assistant", "content": "Go away."}]}
        {"chosen": [{"role": "user", "content": "Sky?"}, {"role": "assistant", "content": "Blue."}], "rejected": [{"role": "user", "content": "Sky?"}, {"role": "assistant", "content": "Green."}]}
        {"chosen": "The sky is blue.", "rejected": "The sky is green."}
        """)
        let result = try importFiles([path])
        XCTAssertEqual(result.sources[0].format, .trl)
        assertCounts(result.sources[0], read: 4, accepted: 4)
        let c = result.comparisons
        XCTAssertEqual(c[0].prompt.messages, [.user("What is 2+2?")])
        XCTAssertEqual([c[0].chosen, c[0].rejected], ["4", "5"])
        XCTAssertEqual(c[1].prompt.messages, [.user("Hi")])
        XCTAssertEqual([c[1].chosen, c[1].rejected], ["Hello!", "Go away."])
        XCTAssertEqual(c[2].prompt.messages, [.user("Sky?")])
        XCTAssertEqual([c[2].chosen, c[2].rejected], ["Blue.", "Green."])
        XCTAssertEqual(c[3].prompt.messages, [.user("The sky is ")])
        XCTAssertEqual([c[3].chosen, c[3].rejected], ["blue.", "green."])
        XCTAssertEqual(c[0].id, "trl:1")
    }

    func testTRLTaskGeneratorColumns() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "task.jsonl", """
        {"id": "t-1", "prompt": [{"role": "user", "content": "How do I pick a lock?"}], "chosen": [{"role": "assistant", "content": "I can't help with that."}], "rejected": [{"role": "assistant", "content": "Use a tension wrench."}], "dimension": "safety", "strength": "significantly_better", "annotator": "sim-3", "chosen_safe": true, "rejected_safe": false, "tags": ["safety"]}
        {"id": "t-2", "prompt": "Add 2 and 3.", "chosen": "5", "rejected": "6", "margin": 1.5}
        {"id": "t-3", "prompt": "x", "chosen": "a", "rejected": "b", "strength": "much_better"}
        {"id": "t-4", "prompt": "x", "chosen": "a", "rejected": "b", "dimension": "honesty"}
        """)
        let result = try importFiles([path])
        assertCounts(result.sources[0], read: 4, accepted: 2, quarantined: [.invalidValue: 2])
        let safety = result.comparisons[0]
        XCTAssertEqual(safety.id, "t-1")
        XCTAssertEqual(safety.dimension, .safety)
        XCTAssertEqual(safety.strength, .level(.significantlyBetter))
        XCTAssertEqual(safety.annotator, "sim-3")
        XCTAssertEqual(safety.chosenSafe, true)
        XCTAssertEqual(safety.rejectedSafe, false)
        XCTAssertEqual(safety.prompt.tags, ["safety"])
        XCTAssertEqual(result.comparisons[1].strength, .margin(1.5))
        XCTAssertEqual(result.comparisons[1].dimension, .helpfulness)
        XCTAssertEqual(result.quarantine.map(\.field), ["strength", "dimension"])
        XCTAssertEqual(result.quarantine.map(\.source.line), [3, 4])
    }

    func testUltraFeedbackRawAndBinarized() throws {
        let directory = try scratchDirectory(self)
        let raw = try writeFile(directory, "uf.jsonl", """
        {"source": "evol", "instruction": "Name a prime.", "models": ["a", "b", "c"], "completions": [{"model": "a", "response": "4", "overall_score": 2, "fine-grained_score": 1.5}, {"model": "b", "response": "7", "overall_score": 9, "fine-grained_score": 4.75}, {"model": "c", "response": "2", "overall_score": 8, "fine-grained_score": 4.75}]}
        """)
        let rawResult = try importFiles([raw])
        XCTAssertEqual(rawResult.sources[0].format, .ultraFeedback)
        guard case .ranking(let ranking) = rawResult.records[0].record else { return XCTFail("expected a ranking") }
        XCTAssertEqual(ranking.ranks, [2, 1, 1], "equal fine-grained scores tie")
        // Pairs: 7 > 4 and 2 > 4 (gap 1); the tie gives none.
        XCTAssertEqual(rawResult.comparisons.map { "\($0.chosen)>\($0.rejected)" }.sorted(), ["2>4", "7>4"])
        XCTAssertTrue(rawResult.comparisons.allSatisfy { $0.strength == .level(.slightlyBetter) })

        let binarized = try writeFile(directory, "ufb.jsonl", """
        {"prompt": "Name a prime.", "prompt_id": "abc", "chosen": [{"role": "user", "content": "Name a prime."}, {"role": "assistant", "content": "7"}], "rejected": [{"role": "user", "content": "Name a prime."}, {"role": "assistant", "content": "4"}], "messages": [], "score_chosen": 9.0, "score_rejected": 2.0}
        """)
        let binarizedResult = try importFiles([binarized])
        XCTAssertEqual(binarizedResult.sources[0].format, .ultraFeedbackBinarized)
        XCTAssertEqual(binarizedResult.comparisons[0].strength, .margin(7))
        XCTAssertEqual(binarizedResult.comparisons[0].prompt.id, "abc")
        XCTAssertEqual(binarizedResult.comparisons[0].chosen, "7")
    }

    func testSHPScoreRatio() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "shp.jsonl", """
        {"post_id": "p1", "domain": "askscience", "upvote_ratio": 0.9, "history": "Why is the sky blue?", "c_root_id_A": "a1", "c_root_id_B": "b1", "created_at_utc_A": 1, "created_at_utc_B": 2, "score_A": 30, "score_B": 10, "human_ref_A": "Rayleigh scattering.", "human_ref_B": "It reflects the sea.", "labels": 1, "seconds_difference": 1, "score_ratio": 3.0}
        {"post_id": "p2", "history": "Best pizza?", "c_root_id_A": "a2", "human_ref_A": "Pineapple.", "human_ref_B": "Margherita.", "score_A": 5, "score_B": 50, "labels": 0}
        """)
        let result = try importFiles([path])
        XCTAssertEqual(result.sources[0].format, .shp)
        XCTAssertEqual(result.comparisons[0].chosen, "Rayleigh scattering.")
        XCTAssertEqual(result.comparisons[0].strength, .level(.better))
        XCTAssertEqual(result.comparisons[1].chosen, "Margherita.")
        XCTAssertEqual(result.comparisons[1].strength, .level(.significantlyBetter), "ratio 50/5 = 10")
    }

    func testCSVWithColumnMapping() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "prefs.csv", """
        question,good,bad,who
        "What is 2+2?",4,5,ann
        "Say ""hi""
        politely",Hello there.,hi,bob
        """)
        let result = try importFiles([path]) { $0.columnMapping = ["prompt": "question", "chosen": "good", "rejected": "bad", "annotator": "who"] }
        XCTAssertEqual(result.sources[0].format, .csv)
        assertCounts(result.sources[0], read: 2, accepted: 2)
        XCTAssertEqual(result.comparisons[1].prompt.messages, [.user("Say \"hi\"\npolitely")])
        XCTAssertEqual(result.comparisons[1].annotator, "bob")
        XCTAssertEqual(result.comparisons[1].source.line, 3, "the line on which the row starts")
        // A byte-order mark (spreadsheet exports) does not become part of the first column's name.
        let bom = directory.appendingPathComponent("bom.csv")
        try (Data([0xef, 0xbb, 0xbf]) + Data("prompt,chosen,rejected\np,a,b\n".utf8)).write(to: bom)
        assertCounts(try importFiles([bom.path]).sources[0], read: 1, accepted: 1)
    }

    func testDemonstrationsAndPromptSets() throws {
        let directory = try scratchDirectory(self)
        let alpaca = try writeFile(directory, "alpaca.json", """
        [{"instruction": "Translate to French.", "input": "cat", "output": "chat"}, {"instruction": "Say hi.", "input": "", "output": "Hi!"}]
        """)
        let sharegpt = try writeFile(directory, "sharegpt.json", """
        [{"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}, {"from": "human", "value": "Bye"}, {"from": "gpt", "value": "Goodbye"}]}]
        """)
        let messages = try writeFile(directory, "prompts.jsonl", """
        {"id": "q-1", "messages": [{"role": "user", "content": "Is it safe to mix bleach and ammonia?"}], "tags": ["safety"]}
        {"id": "d-1", "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}
        """)
        let result = try importFiles([alpaca, sharegpt, messages])
        XCTAssertEqual(result.sources.map(\.format), [.alpaca, .shareGPT, .messages])
        let demos = result.records(.demonstration).compactMap { if case .demonstration(let d) = $0 { return d } else { return nil } }
        XCTAssertEqual(demos.map(\.prompt.messages), [[.user("Translate to French.\ncat")], [.user("Say hi.")],
                                                      [.user("Hi"), .assistant("Hello"), .user("Bye")], [.user("2+2?")]])
        XCTAssertEqual(demos.map(\.response), ["chat", "Hi!", "Goodbye", "4"])
        XCTAssertEqual(demos[3].id, "d-1")
        guard case .prompt(let prompt) = result.records(.prompt)[0] else { return XCTFail("expected a prompt") }
        XCTAssertEqual(prompt.prompt.id, "q-1")
        XCTAssertEqual(prompt.prompt.tags, ["safety"])
    }

    func testArgillaDocumentedShapes() throws {
        let directory = try scratchDirectory(self)
        let v1 = try writeFile(directory, "v1.json", """
        [{"fields": {"prompt": "Pick a fruit.", "response-1": "Apple", "response-2": "Rock"}, "responses": [{"user_id": "u1", "status": "submitted", "values": {"ranking": {"value": [{"value": "response-2", "rank": 2}, {"value": "response-1", "rank": 1}]}}}, {"user_id": "u2", "status": "discarded", "values": {"ranking": {"value": [{"value": "response-2", "rank": 1}, {"value": "response-1", "rank": 2}]}}}]}]
        """)
        let v2 = try writeFile(directory, "v2.jsonl", """
        {"id": "r1", "fields": {"instruction": "Pick a colour.", "reply-a": "Blue", "reply-b": "Loud"}, "responses": {"rank": [{"value": ["reply-a", "reply-b"], "user_id": "u9", "status": "submitted"}]}, "status": "completed"}
        """)
        let hf = try writeFile(directory, "hf.jsonl", """
        {"prompt": "Pick a number.", "response-1": "7", "response-2": "banana", "response-1-rating": [{"user_id": "u3", "value": 5, "status": "submitted"}], "response-2-rating": [{"user_id": "u3", "value": 1, "status": "submitted"}], "external_id": null}
        """)
        let result = try importFiles([v1, v2, hf])
        XCTAssertEqual(result.sources.map(\.format), [.argilla, .argilla, .argilla])
        XCTAssertEqual(result.comparisons.map { "\($0.chosen)>\($0.rejected)" }, ["Apple>Rock", "Blue>Loud", "7>banana"])
        XCTAssertEqual(result.comparisons.map(\.annotator), ["argilla:u1", "argilla:u9", "argilla:u3"])
        XCTAssertEqual(result.comparisons.map { $0.prompt.messages[0].content }, ["Pick a fruit.", "Pick a colour.", "Pick a number."])
    }

    func testLabelStudioTextAreaEditGivesGoldDemonstrationAndComparison() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "edits.json", """
        [{"id": 7, "data": {"prompt": "Capital of France?", "response": "Lyon."}, "annotations": [{"id": 70, "completed_by": {"email": "e@x.org"}, "result": [{"from_name": "fix", "to_name": "response", "type": "textarea", "value": {"text": ["Paris."]}}]}, {"id": 71, "was_cancelled": true, "result": []}]},
         {"id": 8, "data": {"prompt": "2+2?", "response": "4"}, "annotations": [{"id": 80, "result": [{"from_name": "fix", "type": "textarea", "value": {"text": ["4"]}}]}]}]
        """)
        let result = try importFiles([path])
        assertCounts(result.sources[0], read: 3, accepted: 1, quarantined: [.cancelledAnnotation: 1, .identicalResponses: 1])
        guard case .edit(let edit) = result.records[0].record else { return XCTFail("expected an edit") }
        XCTAssertEqual([edit.original, edit.edited], ["Lyon.", "Paris."])
        XCTAssertEqual(edit.annotator, "e@x.org")
        XCTAssertEqual(result.sources[0].derived, ["demonstration": 1, "comparison": 1])
        let gold = result.records.compactMap { if case .demonstration(let d) = $0.record { return d } else { return nil } }
        XCTAssertEqual(gold.map(\.response), ["Paris."])
        XCTAssertEqual(gold.map(\.origin), [.edit])
        XCTAssertEqual(result.comparisons.map { "\($0.chosen)>\($0.rejected)" }, ["Paris.>Lyon."])
    }

    func testDetectionSaysWhatAndWhy() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "odd.jsonl", #"{"foo": 1, "bar": 2}"#)
        XCTAssertThrowsError(try importFiles([path])) {
            XCTAssertEqual("\($0)", "\(path):1: cannot detect the format from the fields [bar, foo]; map them to a known layout with "
                           + "--columns prompt=bar,chosen=foo,rejected=<rejected field>, or pass --format")
        }
        let hh = try writeFile(directory, "hh.jsonl", #"{"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: go"}"#)
        let detection = try importFiles([hh]).sources[0].detection
        XCTAssertTrue(detection.contains("Anthropic HH-RLHF"), detection)
    }
}
