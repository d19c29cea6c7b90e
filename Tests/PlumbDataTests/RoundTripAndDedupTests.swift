// TRL export round trip, de-duplication (exact and near, against a naive substring oracle),
// prompt-hash splits, and the stage written through PlumbStore.
import PlumbStore
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class RoundTripAndDedupTests: XCTestCase {
    /// The records without their source (file and line differ after a round trip) and without
    /// PKU-SafeRLHF's per-response severities and harm categories, which TRL has no column for.
    private func withoutSource(_ comparisons: [Comparison]) -> [Comparison] {
        comparisons.map {
            var c = $0
            c.source = SourceRef(file: "", line: 0)
            (c.details.chosenSeverity, c.details.rejectedSeverity, c.details.chosenHarm, c.details.rejectedHarm) = (nil, nil, nil, nil)
            return c
        }
    }

    func testTRLExportReimportGivesTheSameRecords() throws {
        let directory = try scratchDirectory(self)
        let inputs = [
            try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz"),
            try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl"),
            try sharedData("llama-factory/v1_dpo_demo.jsonl"),
        ]
        let original = try importFiles(inputs)
        let exported = directory.appendingPathComponent("export.jsonl")
        try TRLExport.jsonLines(original.comparisons).write(to: exported)
        let again = try importFiles([exported.path])
        XCTAssertEqual(again.sources[0].format, .trl)
        assertCounts(again.sources[0], read: original.comparisons.count, accepted: original.comparisons.count)
        XCTAssertEqual(withoutSource(again.comparisons), withoutSource(original.comparisons))
        // Same records, same bytes.
        XCTAssertEqual(try TRLExport.jsonLines(again.comparisons), try Data(contentsOf: exported))
    }

    func testExactAndNearDuplicates() throws {
        let directory = try scratchDirectory(self)
        let long = "Photosynthesis converts light energy into chemical energy stored in glucose, releasing oxygen as a by-product in plants and algae."
        let path = try writeFile(directory, "dups.jsonl", """
        {"prompt": "Explain photosynthesis.", "chosen": "\(long)", "rejected": "No."}
        {"prompt": "Explain  photosynthesis. ", "chosen": "\(long)", "rejected": "No."}
        {"prompt": "Explain photosynthesis.", "chosen": "\(long.replacingOccurrences(of: "algae.", with: "algae!"))", "rejected": "No."}
        {"prompt": "Explain photosynthesis.", "chosen": "\(long)", "rejected": "Plants eat sunlight."}
        {"prompt": "Explain photosynthesis.", "chosen": "\(long)", "rejected": "No.", "annotator": "second"}
        {"prompt": "Explain photosynthesis.", "chosen": "\(long)", "rejected": "No.", "dimension": "safety"}
        """)
        let result = try importFiles([path])
        // Row 2 differs only in whitespace (exact); row 3 in one character (near); row 4 has another
        // rejected response, row 5 another annotator, row 6 another dimension: all kept.
        assertCounts(result.sources[0], read: 6, accepted: 4, exact: 1, near: 1)
        XCTAssertEqual(result.comparisons.map(\.source.line), [1, 4, 5, 6])
        let strict = try importFiles([path]) { $0.deduplication.nearDuplicates = false }
        assertCounts(strict.sources[0], read: 6, accepted: 5, exact: 1)
    }

    func testCommonSubstringAgainstNaiveOracle() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let a = String((0..<Int.random(in: 0...40, using: &rng)).map { _ in "abc".randomElement(using: &rng)! })
            let b = String((0..<Int.random(in: 0...40, using: &rng)).map { _ in "abc".randomElement(using: &rng)! })
            var naive = 0
            let x = Array(a.utf8), y = Array(b.utf8)
            for i in 0..<x.count { for j in 0..<y.count {
                var k = 0
                while i + k < x.count, j + k < y.count, x[i + k] == y[j + k] { k += 1 }
                naive = max(naive, k)
            } }
            XCTAssertEqual(CommonSubstring.length(x, y), naive, "\(a) / \(b)")
        }
        XCTAssertEqual(SimHash.hash("the same text here", shingleSize: 3), SimHash.hash("The same text, here!", shingleSize: 3))
    }

    func testSplitsFollowThePromptAcrossSources() throws {
        let result = try importFiles([
            try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl"),
            try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz"),
        ])
        var splitOfPrompt: [String: Split] = [:]
        for record in result.records {
            let key = Validator.normalise(record.record.prompt.text)
            if let seen = splitOfPrompt[key] { XCTAssertEqual(seen, record.split, "one prompt, one split") }
            splitOfPrompt[key] = record.split
        }
        let counts = Dictionary(grouping: splitOfPrompt.values, by: { $0 }).mapValues(\.count)
        let total = Double(splitOfPrompt.count)
        XCTAssertEqual(Double(counts[.validation] ?? 0) / total, 0.05, accuracy: 0.02)
        XCTAssertEqual(Double(counts[.test] ?? 0) / total, 0.05, accuracy: 0.02)
        // Deterministic: a second import assigns the same splits.
        let again = try importFiles([try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl")])
        XCTAssertEqual(again.records.map(\.split), Array(result.records.prefix(76).map(\.split)))
    }

    /// A salt draws another split with the same fractions; no salt and the empty salt are the unsalted split.
    func testSplitSaltDrawsAnotherSplitOfTheSameSize() {
        let prompts = (0..<4000).map { Prompt(messages: [.user("Question number \($0): what is \($0) plus 1?")]) }
        let plain = SplitFractions(validation: 0.1, test: 0.2)
        let salted = SplitFractions(validation: 0.1, test: 0.2, salt: "fold-2")
        XCTAssertEqual(prompts.map(plain.split), prompts.map(SplitFractions(validation: 0.1, test: 0.2, salt: "").split))
        let a = prompts.map(plain.split), b = prompts.map(salted.split)
        XCTAssertEqual(b, prompts.map(SplitFractions(validation: 0.1, test: 0.2, salt: "fold-2").split), "deterministic")
        for split in [Split.validation, .test] {
            let expected = split == .test ? 0.2 : 0.1
            XCTAssertEqual(Double(b.filter { $0 == split }.count) / 4000, expected, accuracy: 0.025)
        }
        // Independent draws: a test prompt of one split is in the other's test split about 20% of the time.
        let both = zip(a, b).filter { $0 == .test && $1 == .test }.count, testA = a.filter { $0 == .test }.count
        XCTAssertEqual(Double(both) / Double(testA), 0.2, accuracy: 0.05)
    }

    func testStageWrittenThroughPlumbStore() throws {
        let runs = try scratchDirectory(self)
        let input = try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl")
        let result = try importFiles([input])
        let stage = runs.appendingPathComponent("2026-11").appendingPathComponent("import")
        let manifest = try ImportStage.write(result, to: stage, config: ImportStage.Config(format: nil, options: ImportOptions()),
                                             inputs: [URL(fileURLWithPath: input)])
        XCTAssertEqual(manifest.status, .complete)
        XCTAssertEqual(manifest.metrics["records_read"], 76)
        XCTAssertEqual(manifest.metrics["accepted"], 76)
        let written = manifest.outputs.filter { $0.name.hasPrefix("comparisons-") }.reduce(0) { $0 + $1.records }
        XCTAssertEqual(written, 76)
        var readBack: [Comparison] = []
        for split in Split.allCases where manifest.outputs.contains(where: { $0.name == "comparisons-\(split.rawValue)" }) {
            let reader = try ShardReader(path: stage, output: "comparisons-\(split.rawValue)",
                                         options: .init(expectedSchema: RecordKind.comparison.schema))
            while let comparison = try reader.next(Comparison.self) { readBack.append(comparison) }
        }
        XCTAssertEqual(Set(readBack.map(\.id)), Set(result.comparisons.map(\.id)))
        XCTAssertEqual(readBack.sorted { $0.id < $1.id }, result.comparisons.sorted { $0.id < $1.id })
        XCTAssertEqual(manifest.outputs.first { $0.name == "sources" }?.records, 1)
        // Same inputs, same bytes: a second import writes shards with the same checksums.
        let second = try ImportStage.write(try importFiles([input]), to: runs.appendingPathComponent("2026-12").appendingPathComponent("import"),
                                           config: ImportStage.Config(format: nil, options: ImportOptions()), inputs: [URL(fileURLWithPath: input)])
        XCTAssertEqual(second.outputs.map { $0.files.map(\.sha256) }, manifest.outputs.map { $0.files.map(\.sha256) })
    }
}
