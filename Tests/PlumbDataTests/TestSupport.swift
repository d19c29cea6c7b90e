// Shared helpers for PlumbData tests: paths to the real samples, scratch files, a small tokenizer.
import Foundation
import PlumbTestSupport
import XCTest
@testable import PlumbData

/// Imports files with default options (plus `configure`).
func importFiles(_ paths: [String], format: ImportFormat? = nil, configure: (inout ImportOptions) -> Void = { _ in }) throws -> ImportResult {
    var options = ImportOptions()
    configure(&options)
    return try Importer(options: options).importFiles(paths, format: format)
}

/// Asserts one source's counts: read, accepted, quarantined by reason, duplicates; and that they balance.
func assertCounts(_ counts: SourceCounts, read: Int, accepted: Int, quarantined: [QuarantineReason: Int] = [:],
                  exact: Int = 0, near: Int = 0, aggregated: Int = 0, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(counts.aggregated, aggregated, "aggregated", file: file, line: line)
    XCTAssertEqual(counts.recordsRead, read, "records read", file: file, line: line)
    XCTAssertEqual(counts.accepted, accepted, "accepted", file: file, line: line)
    XCTAssertEqual(counts.quarantined, Dictionary(uniqueKeysWithValues: quarantined.map { ($0.key.rawValue, $0.value) }),
                   "quarantined by reason", file: file, line: line)
    XCTAssertEqual(counts.exactDuplicates, exact, "exact duplicates", file: file, line: line)
    XCTAssertEqual(counts.nearDuplicates, near, "near duplicates", file: file, line: line)
    XCTAssertTrue(counts.isBalanced, "read = accepted + quarantined + duplicates + ties + aggregated", file: file, line: line)
}

/// A small BPE tokenizer trained once per test process on text from the HH-RLHF sample
/// (the first 400 comparisons' texts; vocabulary 600 with byte fallback and the plumbline pieces).
enum SmallTokenizer {
    struct Trained {
        var modelPath: String
        var corpusPath: String
        var tokenizer: Tokenizer
    }

    nonisolated(unsafe) private static var cached: Trained?
    private static let lock = NSLock()

    static func get() throws -> Trained {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let sample = try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plumbdata-tokenizer-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try importFiles([sample])
        let texts = result.comparisons.prefix(400).flatMap { [$0.prompt.messages.map(\.content).joined(separator: "\n"), $0.chosen, $0.rejected] }
        let corpus = directory.appendingPathComponent("corpus.txt").path
        try Data(texts.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: corpus))
        var options = TokenizerTrainingOptions()
        options.vocabSize = 600
        options.threads = 1
        let model = try TokenizerTrainer.train(inputFiles: [corpus], modelPrefix: directory.appendingPathComponent("small").path, options: options)
        let trained = Trained(modelPath: model, corpusPath: corpus, tokenizer: try Tokenizer(modelFile: model))
        cached = trained
        return trained
    }
}
