// Helpers of the command tests: the real samples in shared/data, scratch directories, a tool on
// PATH run with its output, a small corpus of HH-RLHF texts, and the `plumb` binary beside the tests.
import Foundation
import PlumbData
import XCTest

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A file under `$PLUMB_SHARED_DATA`, or the nearest `shared/data` above the package, or XCTSkip.
func sharedData(_ relative: String) throws -> String {
    if let root = ProcessInfo.processInfo.environment["PLUMB_SHARED_DATA"] {
        let path = URL(fileURLWithPath: root).appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("sample data absent: \(path)") }
        return path
    }
    var directory = packageRoot.deletingLastPathComponent()
    while directory.path != "/" {
        let path = directory.appendingPathComponent("shared/data").appendingPathComponent(relative).path
        if FileManager.default.fileExists(atPath: path) { return path }
        directory = directory.deletingLastPathComponent()
    }
    throw XCTSkip("sample data absent: shared/data/\(relative) above \(packageRoot.path)")
}

/// A fresh scratch directory, removed when the test ends.
func scratchDirectory(_ test: XCTestCase, _ label: String = #function) throws -> URL {
    let name = "plumbcli-\(label.filter { $0.isLetter || $0.isNumber })-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Writes `text` to `name` in `directory` and returns its path.
@discardableResult
func writeFile(_ directory: URL, _ name: String, _ text: String) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
}

/// Runs an executable; returns (status, stdout).
func runTool(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let input = Pipe()
    if stdin != nil { process.standardInput = input }
    try process.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The path of a tool on PATH, or nil.
func which(_ tool: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

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
