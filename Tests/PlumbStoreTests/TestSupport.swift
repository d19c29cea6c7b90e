// Shared helpers for PlumbStore tests: scratch directories, sample records, paths.
import Foundation
import XCTest
@testable import PlumbStore

struct SampleRecord: Codable, Equatable {
    var schema = "sample/1"
    var id: Int
    var text: String
}

/// A fresh, empty scratch directory, removed when the test ends.
func makeScratchDirectory(_ test: XCTestCase, _ label: String = #function) throws -> URL {
    let name = "plumbstore-\(label.filter { $0.isLetter || $0.isNumber })-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Record `i`: text of varying length so shards see realistic variety.
func sampleRecord(_ i: Int) -> SampleRecord {
    SampleRecord(id: i, text: "record \(i) " + String(repeating: "abcdefghij", count: i % 37) + " \"quoted\" \\ unicode é")
}

/// Writes `count` sample records as shard set `name` in `directory`.
@discardableResult
func writeSamples(_ count: Int, to directory: URL, name: String = "samples",
                  options: ShardWriter.Options = ShardWriter.Options()) throws -> [ShardFileInfo] {
    let writer = try ShardWriter(directory: directory, name: name, options: options)
    for i in 0..<count { try writer.append(sampleRecord(i)) }
    return try writer.finish()
}

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs an executable; returns (status, stdout, stderr).
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], stdin: URL? = nil) throws -> (Int32, Data, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, outData, String(decoding: errData, as: UTF8.self))
}

/// The path of a tool on PATH, or nil.
func findTool(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}
