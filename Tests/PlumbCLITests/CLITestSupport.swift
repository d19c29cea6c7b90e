// Helpers of the command tests: the real samples in shared/data, scratch directories, a tool on
// PATH run with its output, a small corpus of HH-RLHF texts, and the `plumb` binary beside the tests.
import Foundation
import PlumbData
import PlumbTestSupport
import XCTest

/// The texts of the HH-RLHF sample's first 400 comparisons, one per line, written once per process.
enum SmallCorpus {
    static let shared: Result<String, Error> = Result {
        let result = try Importer().importFiles([try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz")])
        let texts = result.comparisons.prefix(400).flatMap { [$0.prompt.messages.map(\.content).joined(separator: "\n"), $0.chosen, $0.rejected] }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plumbcli-corpus-\(getpid()).txt").path
        try Data(texts.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// The `plumb` binary beside the tests (the build products directory), or XCTSkip.
func plumbBinary() throws -> URL {
    let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                      Bundle(for: DataCommandTests.self).bundleURL.deletingLastPathComponent()].map { $0.appendingPathComponent("plumb") }
    guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw XCTSkip("the plumb binary is not built next to the tests (run `swift build --build-tests` first)")
    }
    return binary
}
