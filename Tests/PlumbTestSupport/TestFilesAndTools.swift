// Files and tools for the test targets: the real samples in shared/data, scratch directories removed
// when a test ends, small files written into them, and tools on PATH run with their output. One copy
// for every test target that needs them.
import Foundation
import XCTest

/// The package root, from this file's path (Tests/PlumbTestSupport/TestFilesAndTools.swift).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A file under `$PLUMB_SHARED_DATA`, or the nearest `shared/data` above the package (so a git
/// worktree inside the main checkout finds it too), or XCTSkip when the samples are absent.
public func sharedData(_ relative: String) throws -> String {
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

/// A fresh scratch directory named after `prefix` and the test, removed when the test ends.
public func scratchDirectory(_ test: XCTestCase, prefix: String = "plumb", _ label: String = #function) throws -> URL {
    let name = "\(prefix)-\(label.filter { $0.isLetter || $0.isNumber })-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Writes `text` to `name` in `directory` and returns its path.
@discardableResult
public func writeFile(_ directory: URL, _ name: String, _ text: String) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
}

/// Runs an executable; returns (status, stdout).
public func runTool(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (Int32, String) {
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
public func which(_ tool: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}
