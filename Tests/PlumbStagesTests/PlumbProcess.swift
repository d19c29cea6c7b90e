// The `plumb` binary beside the tests, run as a child process (kill and resume tests).
import Foundation
import XCTest

enum PlumbProcess {
    static func binary() throws -> URL {
        // The test runner sits in the build products directory (.build/<config>/), beside `plumb`.
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                          Bundle(for: ResumeTests.self).bundleURL.deletingLastPathComponent()].map { $0.appendingPathComponent("plumb") }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("the plumb binary is not built next to the tests (run `swift build --build-tests` first); looked at \(candidates.map(\.path))")
        }
        return binary
    }

    /// Runs `plumb` as a child process; returns its termination status and reason.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, Process.TerminationReason) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason)
    }
}
