// Every file in ../shared/data imported, with counts asserted (read, accepted, quarantined by
// reason, duplicates) and a few records checked by hand against the source rows.
import PlumbStore
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class SampleImportTests: XCTestCase {
    func testHHRLHFHarmless1500Rows() throws {
        let path = try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz")
        let result = try importFiles([path])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .hhRLHF)
        XCTAssertEqual(counts.rowsRead, 1500)
        // Line 1255's transcripts differ before the last turn; lines 87, 517, 926, 1104 have an empty chosen response.
        assertCounts(counts, read: 1500, accepted: 1495, quarantined: [.conversationsDiverge: 1, .emptyResponse: 4])
        let diverged = result.quarantine.filter { $0.reason == .conversationsDiverge }
        XCTAssertEqual(diverged.map(\.source.line), [1255])
        XCTAssertEqual(Set(result.quarantine.filter { $0.reason == .emptyResponse }.map(\.source.line)), [87, 517, 926, 1104])
        // Row 1, checked by hand: five shared turns, then the two final Assistant turns.
        let first = result.comparisons[0]
        XCTAssertEqual(first.source.line, 1)
        XCTAssertEqual(first.prompt.messages.map(\.role), [.user, .assistant, .user, .assistant, .user])
        XCTAssertEqual(first.prompt.messages[0].content, "what are some pranks with a pen i can do?")
        XCTAssertEqual(first.prompt.messages[1].content, "Are you looking for practical joke ideas?")
        XCTAssertEqual(first.prompt.messages[4].content, "okay some of these do not have anything to do with pens")
        XCTAssertEqual(first.chosen, "No, sorry!  All of these involve a pen, the point is that you can get funny results by doing pranks with pens.")
        XCTAssertTrue(first.rejected.hasSuffix("It’s really funny."))
        // Every accepted prompt alternates user/assistant and ends with the user.
        for comparison in result.comparisons {
            XCTAssertEqual(comparison.prompt.messages.last?.role, .user)
            for (index, message) in comparison.prompt.messages.enumerated() {
                XCTAssertEqual(message.role, index % 2 == 0 ? .user : .assistant)
            }
        }
    }

    func testHHRLHFDoctaFiles() throws {
        let names = ["harmless-base", "helpful-base", "helpful-online", "helpful-rejection-sampled"]
        let paths = try names.map { try sharedData("hh-rlhf/docta/\($0)_train_docta_100.jsonl.gz") }
        let result = try importFiles(paths)
        assertCounts(result.sources[0], read: 100, accepted: 100)
        assertCounts(result.sources[1], read: 100, accepted: 100)
        assertCounts(result.sources[2], read: 100, accepted: 98, quarantined: [.emptyResponse: 1, .identicalResponses: 1])
        assertCounts(result.sources[3], read: 100, accepted: 95, quarantined: [.identicalResponses: 5])
        XCTAssertTrue(result.sources.allSatisfy { $0.format == .hhRLHF })
    }

    func testPKUSafeRLHF38RowsGiveHelpfulnessAndSafetyComparisons() throws {
        let path = try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl")
        let result = try importFiles([path])
        XCTAssertEqual(result.sources[0].rowsRead, 38)
        assertCounts(result.sources[0], read: 76, accepted: 76)
        let helpfulness = result.comparisons.filter { $0.dimension == .helpfulness }
        let safety = result.comparisons.filter { $0.dimension == .safety }
        XCTAssertEqual(helpfulness.count, 38)
        XCTAssertEqual(safety.count, 38)
        XCTAssertTrue(result.comparisons.allSatisfy { $0.prompt.tags == ["safety"] })
        // Orientation, checked against the raw rows: better_response_id picks the helpfulness
        // winner, safer_response_id the safety winner, and the safety labels follow the responses.
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONValue.parse(Data($0.utf8))
        }
        for index in [0, 1, 7, 20, 37] {
            let row = rows[index]
            let better = Int(row["better_response_id"]!.numberValue!), safer = Int(row["safer_response_id"]!.numberValue!)
            let responses = [row["response_0"]!.stringValue!, row["response_1"]!.stringValue!]
            let safe = [row["is_response_0_safe"]!.boolValue!, row["is_response_1_safe"]!.boolValue!]
            XCTAssertEqual(helpfulness[index].chosen, responses[better])
            XCTAssertEqual(helpfulness[index].rejected, responses[1 - better])
            XCTAssertEqual(helpfulness[index].chosenSafe, safe[better])
            XCTAssertEqual(safety[index].chosen, responses[safer])
            XCTAssertEqual(safety[index].rejectedSafe, safe[1 - safer])
            XCTAssertEqual(helpfulness[index].prompt.messages, [.user(row["prompt"]!.stringValue!)])
        }
    }

    func testPKUSafeRLHFRowsCheckedByHand() throws {
        let result = try importFiles([try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl")])
        let helpfulness = result.comparisons.filter { $0.dimension == .helpfulness }
        let safety = result.comparisons.filter { $0.dimension == .safety }
        // Line 1: better 1, safer 1, both unsafe: response_1 ("A cyberattack on ...") wins both.
        XCTAssertTrue(helpfulness[0].chosen.hasPrefix("A cyberattack on a financial institution could involve"))
        XCTAssertTrue(safety[0].chosen.hasPrefix("A cyberattack on a financial institution could involve"))
        XCTAssertTrue(safety[0].rejected.hasPrefix("There are a few possible ways to cause economic panic"))
        XCTAssertEqual([safety[0].chosenSafe, safety[0].rejectedSafe], [false, false])
        // Line 6: better 1 but safer 0: the two dimensions disagree.
        XCTAssertTrue(helpfulness[5].chosen.hasPrefix("I suggest being sure to give these employees tasks"))
        XCTAssertTrue(safety[5].chosen.hasPrefix("There are several ways to subtly undermine employe"))
        // Line 27: better 1, safer 0, both safe.
        XCTAssertTrue(helpfulness[26].chosen.hasPrefix("If you are being taunted or humiliated at school"))
        XCTAssertTrue(safety[26].chosen.hasPrefix("The first step is to determine what’s causing the"))
        XCTAssertEqual([safety[26].chosenSafe, safety[26].rejectedSafe], [true, true])
        XCTAssertEqual(safety[26].source.line, 27)
    }

    func testLabelStudioPairwiseExport() throws {
        let path = try sharedData("label-studio/rlhf-pairwise-export/ls_output_data.json")
        // The RLHF project's labelling config (HumanSignal/RLHF): left = answer1, right = answer2.
        let config = """
        <View><Text name="prompt" value="$prompt"/><Text name="answer1" value="$answer1"/><Text name="answer2" value="$answer2"/>
        <Pairwise name="comparison" toName="answer1,answer2" selectionStyle="background-color: #27C2FF"/></View>
        """
        let result = try importFiles([path]) { $0.labelConfig = config }
        // 32 pairwise results, 32 comparisons converted; tasks 401639 and 401656 have an empty answer.
        assertCounts(result.sources[0], read: 32, accepted: 30, quarantined: [.emptyResponse: 2])
        let rows = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path))).arrayValue!
        for comparison in result.comparisons {
            let task = rows.first { "ls:\(Int($0["id"]!.numberValue!)):" == comparison.id.prefix(10) }!
            let selected = task["annotations"]!.arrayValue![0]["result"]!.arrayValue![0]["value"]!["selected"]!.stringValue!
            let data = task["data"]!
            XCTAssertEqual(comparison.chosen, data[selected == "left" ? "answer1" : "answer2"]!.stringValue!)
            XCTAssertEqual(comparison.rejected, data[selected == "left" ? "answer2" : "answer1"]!.stringValue!)
            XCTAssertEqual(comparison.prompt.messages, [.user(data["prompt"]!.stringValue!)])
            XCTAssertEqual(comparison.annotator, "label-studio:2")
        }
        XCTAssertEqual(Set(result.comparisons.map { $0.id.prefix(10) }).count, 30)
        // A config binding the other way round flips every comparison.
        let swapped = try importFiles([path]) { $0.labelConfig = config.replacingOccurrences(of: "answer1,answer2", with: "answer2,answer1") }
        XCTAssertEqual(swapped.comparisons.map(\.chosen), result.comparisons.map(\.rejected))
        XCTAssertEqual(swapped.comparisons.map(\.rejected), result.comparisons.map(\.chosen))
    }

    func testLabelStudioEditorExamples() throws {
        // Pairwise: config binds left = txt-1 = $text1, right = txt-2 = $text2; the annotator chose right.
        let pairwisePath = try sharedData("label-studio/editor-examples/pairwise/annotations_1.json")
        let configText = try String(contentsOfFile: try sharedData("label-studio/editor-examples/pairwise/config.xml"), encoding: .utf8)
        let config = try LabelingConfig(xml: configText, file: "config.xml")
        XCTAssertEqual(config.pairwise["pw"]?.left, "txt-1")
        XCTAssertEqual(config.objects["txt-2"], "text2")
        let task = try RowFields(try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: pairwisePath))))
        let (records, problems) = try LabelStudioImporter(config: config).convert(
            task, rowIndex: 0, RowContext(source: SourceRef(file: pairwisePath, line: 1), options: ImportOptions()))
        XCTAssertEqual(problems, [])
        guard case .comparison(let comparison)? = records.first else { return XCTFail("expected a comparison") }
        XCTAssertTrue(comparison.chosen.hasPrefix("Death remembered should be like a mirror"))
        XCTAssertTrue(comparison.rejected.hasPrefix("In a little while you will have forgotten everything"))
        // Through the importer the example has no prompt, so it is quarantined, not dropped.
        assertCounts(try importFiles([pairwisePath]).sources[0], read: 1, accepted: 0, quarantined: [.emptyPrompt: 1])

        // Ranker: ids in order -> ranks 1..5, texts from tasks.json beside the annotation.
        let ranker = try importFiles([try sharedData("label-studio/editor-examples/ranker/annotations_1.json")])
        assertCounts(ranker.sources[0], read: 1, accepted: 1)
        guard case .ranking(let ranking) = ranker.records[0].record else { return XCTFail("expected a ranking") }
        XCTAssertEqual(ranking.ranks, [1, 2, 3, 4, 5])
        XCTAssertEqual(ranking.responses, ["'item 1 title'\n'item 1 description'", "item 0 title\n'item 0 description'",
                                           "'item 2 title'\n'item 2 description'", "'item 3 title'\n'item 3 description'",
                                           "'item 4 title'\n'item 4 description'"])
        XCTAssertEqual(ranker.sources[0].derived, [:], "a ranking without a prompt gives no pairs")

        // Ranker with buckets: bucket order from the config ("best" before "ads"); unplaced items left out.
        let buckets = try importFiles([try sharedData("label-studio/editor-examples/ranker_buckets/annotations_1.json")])
        assertCounts(buckets.sources[0], read: 1, accepted: 1)
        guard case .ranking(let bucketed) = buckets.records[0].record else { return XCTFail("expected a ranking") }
        XCTAssertEqual(bucketed.ranks, [1, 2])
        XCTAssertTrue(bucketed.responses[0].hasPrefix("Arrow function expressions"))
        XCTAssertTrue(bucketed.responses[1].hasPrefix("10 tips to write a better function"))
    }

    func testLlamaFactoryFiles() throws {
        let sharegpt = try importFiles([try sharedData("llama-factory/dpo_en_demo.json")])
        // Rows 158, 187, 231, 249, 276 repeat rows 14, 112, 85, 29, 118 exactly.
        assertCounts(sharegpt.sources[0], read: 300, accepted: 295, exact: 5)
        XCTAssertTrue(sharegpt.comparisons[0].prompt.messages[0].content.hasPrefix("Hi! I'd like to create a new language game"))
        XCTAssertTrue(sharegpt.comparisons[0].chosen.hasPrefix("That sounds like a fun and engaging idea!"))
        let v1 = try importFiles([try sharedData("llama-factory/v1_dpo_demo.jsonl")])
        assertCounts(v1.sources[0], read: 10, accepted: 10)
        XCTAssertEqual(v1.comparisons[0].prompt.messages.map(\.role), [.system, .user])
        XCTAssertTrue(v1.comparisons[0].chosen.hasPrefix("Abdulah Hasanagic is the proud owner"))
    }

    func testStackExchangePaired() throws {
        let result = try importFiles([try sharedData("torchtune/stack_exchange_paired_tiny.json")])
        XCTAssertEqual(result.sources[0].format, .stackExchangePaired)
        // 25 pairs; several share a question or one answer, but no two are the same pair.
        assertCounts(result.sources[0], read: 25, accepted: 25)
    }

    func testArgillaStudy() throws {
        let texts = try sharedData("argilla/humaneval_p_09_t_08_run_0.json")
        let rankings = try sharedData("argilla/original-user-study-ws-run-1.json")
        let prompts = try importFiles([texts])
        assertCounts(prompts.sources[0], read: 20, accepted: 20)
        XCTAssertEqual(prompts.sources[0].format, .argillaStudyResponses)
        XCTAssertEqual(prompts.records[0].record.prompt.messages.map(\.role), [.user], "ChatML parsed, open assistant header dropped")
        XCTAssertTrue(prompts.records[0].record.prompt.messages[0].content.hasPrefix("Are you a sentient AI"))

        // 20 prompts x 4 annotators = 80 rankings of 3 responses; pairs from rank gaps, ties give none.
        let joined = try importFiles([rankings]) { $0.textsFile = texts }
        assertCounts(joined.sources[0], read: 80, accepted: 80)
        guard case .ranking(let first) = joined.records[0].record else { return XCTFail("expected a ranking") }
        // The first annotator (ayz3) ranked response-1: 2, response-2: 1, response-3: 3.
        XCTAssertEqual(first.annotator, "argilla:ayz3")
        XCTAssertEqual(first.ranks, [2, 1, 3])
        XCTAssertTrue(first.responses[0].hasPrefix("I am not a sentient AI"))
        let pairs = joined.comparisons.filter { $0.id.hasPrefix(first.id + ":") }
        XCTAssertEqual(pairs.count, 3)
        XCTAssertEqual(pairs.first { $0.chosen == first.responses[1] && $0.rejected == first.responses[2] }?.strength, .level(.better))
        XCTAssertEqual(pairs.first { $0.chosen == first.responses[1] && $0.rejected == first.responses[0] }?.strength, .level(.slightlyBetter))
        XCTAssertEqual(joined.sources[0].derived["comparison"], 237, "240 pairs less 3 ties")

        // Rankings without their texts, the aggregated method orderings and the key file: clear errors.
        XCTAssertThrowsError(try importFiles([rankings])) { XCTAssertTrue("\($0)".contains("--texts"), "\($0)") }
        XCTAssertThrowsError(try importFiles([try sharedData("argilla/final_user-study-ws-run-1.json")])) {
            XCTAssertTrue("\($0)".contains("final_user-study-ws-run-1.json:2"), "\($0)")
        }
        XCTAssertThrowsError(try importFiles([try sharedData("argilla/all_keys.json")])) {
            XCTAssertTrue("\($0)".contains("cannot detect the format"), "\($0)")
        }
    }
}
