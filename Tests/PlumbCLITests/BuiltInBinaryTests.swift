// The `plumb` binary carries its main job and its code version: copied into an empty directory far
// from the source tree, it runs the built-in pipeline's first stage from another empty directory and
// stamps it with the hash of the tree it was built from.
import Foundation
@testable import PlumbStore
@testable import PlumbCLI
import PlumbPipeline
import PlumbTestSupport
import XCTest

final class BuiltInBinaryTests: XCTestCase {
    func testACopiedBinaryRunsItsBuiltInPipelineWithItsBuiltCodeVersion() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-copied-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let bin = scratch.appendingPathComponent("bin"), work = scratch.appendingPathComponent("work")
        for directory in [bin, work] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        let copy = bin.appendingPathComponent("plumb")
        try FileManager.default.copyItem(at: try plumbBinary(), to: copy)

        let process = Process()
        process.executableURL = copy
        process.currentDirectoryURL = work
        process.arguments = ["pipeline", "run", "builtin:main-job.yaml", "--settings", "quick", "--run", "runs/r", "--until", "task"]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PLUMB_CODE_") }
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, message)

        let record = try JSONDecoder().decode(PipelineStageRecord.self, from: Data(contentsOf: work.appendingPathComponent("runs/r/task/pipeline-stage.json")))
        XCTAssertEqual(record.code, "sources:\(BuildInfo.sourceTreeHash) \(CodeVersion.buildConfiguration)", "the code version built in")
        // The build hashed this tree, unless a source was edited after the build.
        if !CodeVersion.isNewer(CodeVersion.packageRoot, than: try plumbBinary()) {
            XCTAssertEqual(BuildInfo.sourceTreeHash, try SourceTree.hash(CodeVersion.packageRoot), "the binary is built from this tree")
        }
        let shipped = try FileManager.default.contentsOfDirectory(atPath: CodeVersion.packageRoot.appendingPathComponent("pipelines").path)
        XCTAssertEqual(Set(BuildInfo.pipelines.keys), Set(shipped.filter { $0.hasSuffix(".yaml") }), "every pipelines/*.yaml is built in")
        XCTAssertEqual(try BuiltIn.pipelineText(named: "main-job.yaml"),
                       try String(contentsOf: CodeVersion.packageRoot.appendingPathComponent("pipelines/main-job.yaml"), encoding: .utf8))
        XCTAssertThrowsError(try BuiltIn.pipelineText(named: "nope.yaml")) { error in
            XCTAssertTrue("\(error)".contains("no such built-in pipeline (built in: "), "\(error)")
            XCTAssertTrue("\(error)".contains("main-job.yaml, monthly.yaml"), "the message lists what is built in: \(error)")
        }
    }
}
