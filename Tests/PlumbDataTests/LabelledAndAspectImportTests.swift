// Labelled responses (BeaverTails layout, as JSON Lines and as a pandas CSV with Python dict cells
// and NaN), A/B answers with per-aspect votes (LFQA / HelpSteer3 style), and DPO-pair CSVs with a
// system prompt and a `question` column: each imports with no flags, and the report names the columns.
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class LabelledAndAspectImportTests: XCTestCase {
    func testBeaverTailsJSONLines() throws {
        let result = try importFiles([fixture("beavertails.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .labelledResponses)
        XCTAssertEqual(counts.columns["safe"], "is_safe")
        XCTAssertEqual(counts.columns["categories"], "category")
        assertCounts(counts, read: 6, accepted: 4, quarantined: [.missingField: 1, .emptyResponse: 1])
        XCTAssertEqual(counts.accepted(.labelledResponse), 4)
        let labelled = result.labelledResponses
        XCTAssertEqual(labelled.map(\.safe), [false, true, true, false])
        XCTAssertEqual(labelled[0].categories, ["financial_crime,property_crime,theft", "non_violent_unethical_behavior"])
        XCTAssertEqual(labelled[1].categories, [])
        XCTAssertEqual(result.quarantine.map(\.field), ["is_safe", "response"])
        // The one prompt with a safe and an unsafe response gives one safety pair, safe chosen.
        let pairs = LabelledPairs.comparisons(from: labelled)
        XCTAssertEqual(pairs.count, 1)
        XCTAssertEqual(pairs[0].chosen, labelled[1].response)
        XCTAssertEqual(pairs[0].rejected, labelled[0].response)
        XCTAssertEqual(pairs[0].dimension, .safety)
        XCTAssertEqual([pairs[0].chosenSafe, pairs[0].rejectedSafe], [true, false])
    }

    func testBeaverTailsPandasCSV() throws {
        let result = try importFiles([fixture("beavertails.csv")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .labelledResponses)
        XCTAssertTrue(counts.detection.hasPrefix("CSV header"), counts.detection)
        assertCounts(counts, read: 4, accepted: 3, quarantined: [.missingField: 1])
        XCTAssertEqual(result.labelledResponses.map(\.safe), [false, true, true])
        XCTAssertEqual(result.labelledResponses[0].categories, ["financial_crime,property_crime,theft"], "a Python dict cell")
        XCTAssertEqual(result.labelledResponses[2].categories, [], "an empty category cell")
        XCTAssertEqual(result.quarantine[0].field, "is_safe")
        XCTAssertEqual(result.quarantine[0].source.line, 5)
    }

    func testLabelledResponsesShardSet() throws {
        let directory = try scratchDirectory(self)
        var options = ImportOptions()
        options.splits = SplitFractions(validation: 0, test: 0)
        let result = try Importer(options: options).importFiles([fixture("beavertails.jsonl")])
        let stage = directory.appendingPathComponent("run/import")
        try ImportStage.write(result, to: stage, config: .init(format: nil, options: options), inputs: [])
        let read = try readOutput(LabelledResponse.self, "labelled-responses-train", in: stage)
        XCTAssertEqual(read, result.labelledResponses)
        XCTAssertEqual(read[0].schema, "labelled-response/1")
    }

    func testPerAspectPreferences() throws {
        let result = try importFiles([fixture("aspects.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .pairwiseAspects)
        XCTAssertTrue(counts.detection.contains("coherence, factuality"), counts.detection)
        XCTAssertEqual(counts.columns["prompt"], "question")
        XCTAssertEqual(counts.columns["response_a"], "answer_a")
        XCTAssertEqual(counts.columns["aspect:factuality"], "factuality_preference")
        XCTAssertEqual(counts.ties, ["tie": 1])
        assertCounts(counts, read: 5, accepted: 2, quarantined: [.missingField: 1, .invalidValue: 1])
        let sky = result.comparisons[0]
        XCTAssertEqual(sky.prompt.messages, [.user("Why is the sky blue?")])
        XCTAssertTrue(sky.chosen.hasPrefix("Sunlight scatters"))
        XCTAssertEqual(sky.strength, .level(.better), "-2 on the signed scale: A better")
        XCTAssertEqual(sky.details.aspects, ["factuality": .chosen, "coherence": .rejected])
        XCTAssertEqual(sky.details.justification, "A is correct; B repeats a myth, though it reads smoothly.")
        XCTAssertEqual(sky.details.preferenceFrom, "overall")
        let vaccine = result.comparisons[1]
        XCTAssertTrue(vaccine.chosen.hasPrefix("They train"))
        XCTAssertEqual(vaccine.details.aspects, ["coherence": .tie], "a null aspect vote is left out")
        XCTAssertNil(vaccine.details.justification)
        XCTAssertEqual(result.quarantine.map(\.field), ["overall_preference", "overall_preference"])
    }

    func testAspectDecides() throws {
        let result = try importFiles([fixture("aspects.jsonl")]) { $0.aspect = "coherence" }
        // Coherence: sky +1 -> B; vaccine tie; 10/4 tie; two rows without a coherence vote.
        XCTAssertEqual(result.sources[0].ties, ["tie": 2])
        assertCounts(result.sources[0], read: 5, accepted: 1, quarantined: [.missingField: 2])
        let sky = result.comparisons[0]
        XCTAssertEqual(sky.chosen, "Because it reflects the ocean.")
        XCTAssertEqual(sky.details.preferenceFrom, "coherence")
        XCTAssertEqual(sky.details.aspects, ["overall": .rejected, "factuality": .rejected])
        XCTAssertEqual(result.quarantine.map(\.field), ["coherence_preference", "coherence_preference"])
        XCTAssertThrowsError(try importFiles([fixture("aspects.jsonl")]) { $0.aspect = "tone" }) { error in
            XCTAssertTrue("\(error)".contains("coherence, factuality"), "\(error)")
        }
    }

    func testDPOPairsWithSystemPrompt() throws {
        let csv = try importFiles([fixture("dpo-system.csv")])
        XCTAssertEqual(csv.sources[0].format, .csv)
        XCTAssertEqual(csv.sources[0].columns, ["prompt": "question", "system": "system", "chosen": "chosen", "rejected": "rejected"])
        assertCounts(csv.sources[0], read: 3, accepted: 3)
        XCTAssertEqual(csv.comparisons[0].prompt.messages, [.system("You are a careful math tutor."), .user("What is 12 * 12?")])
        XCTAssertEqual(csv.comparisons[1].prompt.messages, [.user("Write a two-line poem about rain.")], "an empty system cell adds no message")
        XCTAssertEqual(csv.comparisons[1].chosen, "Rain taps the glass,\nthe garden drinks.")

        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "dpo.jsonl", """
        {"system": "You answer in French.", "question": "Say hello.", "chosen": "Bonjour !", "rejected": "Hello!"}
        """)
        let json = try importFiles([path])
        XCTAssertEqual(json.sources[0].format, .trl)
        XCTAssertTrue(json.sources[0].detection.contains("'question'"), json.sources[0].detection)
        XCTAssertEqual(json.sources[0].columns["prompt"], "question")
        XCTAssertEqual(json.comparisons[0].prompt.messages, [.system("You answer in French."), .user("Say hello.")])
    }

    func testFixedFormatsReportTheirColumns() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "se.jsonl", """
        {"qid": 1, "question": "How do I sort a list?", "response_j": "Use sorted().", "response_k": "You can't."}
        """)
        let result = try importFiles([path])
        XCTAssertEqual(result.sources[0].format, .stackExchangePaired)
        XCTAssertEqual(result.sources[0].columns, ["prompt": "question", "chosen": "response_j", "rejected": "response_k"])
    }

    func testColumnNamesPutBackInProblems() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "qa.jsonl", """
        {"question": 42, "answer_a": "x", "answer_b": "y", "preference": "a"}
        {"question": "Fine?", "answer_a": "x", "answer_b": "y", "preference": "a"}
        """)
        let result = try importFiles([path])
        XCTAssertEqual(result.sources[0].format, .pairwiseAspects)
        XCTAssertEqual(result.quarantine[0].reason, .wrongType)
        XCTAssertEqual(result.quarantine[0].field, "question", "the input's column, not the canonical field")
        XCTAssertTrue(result.quarantine[0].detail.contains("'question'"), result.quarantine[0].detail)
    }
}

final class SafetyLexiconTests: XCTestCase {
    func testWordBoundariesCaseAndPhrases() throws {
        let lexicon = SafetyLexicon(entries: ["rob", "Break Into", " steal "])
        XCTAssertEqual(lexicon.entries, ["rob", "break into", "steal"])
        XCTAssertEqual(lexicon.matches("Rob the stall."), ["rob"])
        XCTAssertEqual(lexicon.matches("A robot has no problem."), [], "not inside a longer word")
        XCTAssertEqual(lexicon.matches("First, BREAK INTO the shed, then steal."), ["break into", "steal"])
        XCTAssertEqual(lexicon.matches("Breaking into music is hard; stealing the show is fun."), [])
        XCTAssertEqual(lexicon.matches("problem, then rob"), ["rob"], "a later occurrence at a boundary still counts")
    }

    func testFileErrors() throws {
        let directory = try scratchDirectory(self)
        let empty = try writeFile(directory, "empty.txt", "# only a comment\n\n")
        XCTAssertThrowsError(try SafetyLexicon(file: empty)) { XCTAssertTrue("\($0)".contains("empty.txt"), "\($0)") }
        let good = try writeFile(directory, "words.txt", "# harms\npoison\n\nhurt\n")
        XCTAssertEqual(try SafetyLexicon(file: good).entries, ["poison", "hurt"])
    }
}
