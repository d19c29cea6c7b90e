// The generic stage command: any registered kind run by hand, its flags the stage's keys and slots
// (`plumb stage KIND`, `plumb KIND`), gives the bytes and key of the same stage in a pipeline file;
// `plumb import` takes its files without a flag and a true/false key alone.
import Foundation
import PlumbEval
import PlumbStages
import PlumbStore
import XCTest
@testable import PlumbCLI
@testable import PlumbPipeline

final class StageCommandTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-stage-command-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func session(_ file: URL, run: String) throws -> PipelineSession {
        var services = PipelineServices.standard
        services.log = { _ in }
        return try PipelineSession.open(file: file.path, run: root.appendingPathComponent("runs/\(run)"), previous: nil, profile: nil,
                                        overrides: [:], acceptCodeChange: false, services: services)
    }

    /// `plumb stage KIND ...`: a registered kind by hand, its flags its keys and slots; the same
    /// config.json and key as the same stage in a pipeline file.
    func testTheGenericCommandRunsAKindByHand() throws {
        let out = root.appendingPathComponent("runs/hand/config")
        var command = try PlumbCommand.parseAsRoot(["stage", "model-config", "--hidden_size", "32", "--tie_word_embeddings", "--out", out.path])
        try command.run()
        let file = root.appendingPathComponent("config.yaml")
        try Data("stages:\n  config:\n    kind: model-config\n    options: {hidden_size: 32, tie_word_embeddings: true}\n".utf8).write(to: file)
        try session(file, run: "file").runner.execute()
        let inFile = root.appendingPathComponent("runs/file/config")
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8), #"{"hidden_size":32,"tie_word_embeddings":true}"#)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("config.json")), try Data(contentsOf: inFile.appendingPathComponent("config.json")))
        XCTAssertEqual(try StageManifest.read(from: out).cacheKey, try StageManifest.read(from: inFile).cacheKey)
        var bad = try PlumbCommand.parseAsRoot(["stage", "model-config", "--hidden_size", "wide", "--out", out.path])
        XCTAssertThrowsError(try bad.run()) { XCTAssertTrue("\($0)".contains("hidden_size") && "\($0)".contains("\"wide\" is not a whole number"), "\($0)") }
    }
}
