// Stages as values: a stage kind defined here, outside PlumbStages, PlumbEval, PlumbPipeline and PlumbCLI, runs by
// hand (StageRun) and in a pipeline file (added to the registry the session is opened with), writes a
// manifest with the one cache key, and its file's options decode into its parameters: `0.003` and
// `3e-3` give the same key; an unknown key, a wrong type, an input given as an option (and the
// reverse) and a wrong number of references are errors at file:line: key before anything runs.
import Foundation
import PlumbEval
import PlumbStages
import PlumbStore
import XCTest
@testable import PlumbPipeline

/// A toy kind: writes its `text` input (or "toy") `times` times, then `rate` and `label`, into out.txt.
enum ToyRepeatStage: Stage {
    static let kind: StageKind = "toy repeat"
    static let abstract = "Repeat a text file."
    static let mainFile: String? = "out.txt"
    static let slots = [InputSlot("text", .optional, "A text file.")]

    struct Parameters: StageParameters, Equatable {
        var times = 2
        var rate = 0.5
        var label: String?
        func validate() throws {
            guard times > 0 else { throw StageParameterError("times", "must be > 0") }
        }
    }

    struct Summary: StageSummary {
        var bytes: Int
        var metrics: [String: Double] { ["bytes": Double(bytes)] }
    }

    static func prepare(_ p: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<String> {
        guard let file = inputs.optional("text") else { return Prepared("toy\n", files: []) }
        return Prepared(try String(contentsOf: file, encoding: .utf8), files: [file])
    }

    static func execute(_ text: String, parameters p: Parameters, stage: StageContext) throws -> Summary {
        let out = String(repeating: text, count: p.times) + "\(p.rate) \(p.label ?? "-")\n"
        try Data(out.utf8).write(to: stage.directory.appendingPathComponent(mainFile!))
        try stage.recordWrittenFiles()
        return Summary(bytes: out.utf8.count)
    }
}

final class StageValueTests: XCTestCase {
    var root: URL!
    let registry = StageRegistry.standard.adding([ToyRepeatStage.self])

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-stage-values-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// Two toy stages, the second reading the first's main file.
    func pipeline(first: String = "{times: 1}", second: String = "{times: 3, rate: 0.003}", inputs: String = "{text: first}",
                  name: String = "toy.yaml") throws -> URL {
        let file = root.appendingPathComponent(name)
        try Data("""
        pipeline: toy
        stages:
          first:
            kind: toy repeat
            options: \(first)
          second:
            kind: toy repeat
            inputs: \(inputs)
            options: \(second)

        """.utf8).write(to: file)
        return file
    }

    func session(_ file: URL, run: String) throws -> PipelineSession {
        try PipelineSession.open(file: file.path, run: root.appendingPathComponent("runs/\(run)"), previous: nil, profile: nil, overrides: [:],
                                 acceptCodeChange: false, services: .quiet(registry))
    }

    /// The same stage by hand and in a pipeline file: the same bytes, key and summary; the file's
    /// `3e-3` and the hand's `0.003` are one number, so one key.
    func testToyKindRunsByHandAndInAPipelineFile() throws {
        let s = try session(try pipeline(second: "{times: 3, rate: 3e-3}"), run: "file")
        try s.runner.execute()
        let first = root.appendingPathComponent("runs/file/first"), second = root.appendingPathComponent("runs/file/second")
        XCTAssertEqual(try String(contentsOf: second.appendingPathComponent("out.txt"), encoding: .utf8), String(repeating: "toy\n0.5 -\n", count: 3) + "0.003 -\n")

        var p = ToyRepeatStage.Parameters()
        (p.times, p.rate) = (3, 0.003)
        let byHand = try StageRun.run(ToyRepeatStage.self, p, inputs: StageInputs(["text": [first.appendingPathComponent("out.txt")]]),
                                      location: StageLocation(runsRoot: root.appendingPathComponent("runs"), run: "hand", stage: "second"))
        let hand = root.appendingPathComponent("runs/hand/second")
        XCTAssertEqual(try Data(contentsOf: hand.appendingPathComponent("out.txt")), try Data(contentsOf: second.appendingPathComponent("out.txt")))
        let fileManifest = try StageManifest.read(from: second), handManifest = try StageManifest.read(from: hand)
        XCTAssertEqual(fileManifest.cacheKey, handManifest.cacheKey, "one key: parameters, input checksums, code")
        XCTAssertEqual(fileManifest.kind, "toy repeat")
        XCTAssertEqual(fileManifest.metrics["bytes"], Double(byHand.bytes))
        XCTAssertEqual(try StageRun.summary(ToyRepeatStage.self, of: second).bytes, byHand.bytes, "the typed summary reads back")
        XCTAssertEqual(fileManifest.slots?["text"]?.first?.producedBy, "file/first", "lineage by slot")
        XCTAssertEqual(fileManifest.slots?["text"]?.first?.path, "file/first/out.txt", "paths relative to the runs root")
        XCTAssertEqual(try PipelineStageRecord.read(second)?.key, fileManifest.cacheKey, "the runner records the manifest's key")

        // Rerun: complete. 0.003 written as 0.0030 is the same number: still complete.
        XCTAssertTrue(try s.runner.plan().allSatisfy { $0.status.isComplete })
        let respelled = try session(try pipeline(second: "{times: 3, rate: 0.0030}", name: "respelled.yaml"), run: "file")
        XCTAssertTrue(try respelled.runner.plan().allSatisfy { $0.status.isComplete })
        let changed = try session(try pipeline(second: "{times: 3, rate: 0.004}", name: "changed.yaml"), run: "file")
        XCTAssertEqual(try changed.runner.plan().last?.status, .stale("option rate 3e-3 -> 0.004"))
    }

    func expectError(_ file: URL, _ parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try session(file, run: "bad"), line: line) { error in
            for part in parts { XCTAssertTrue("\(error)".contains(part), "\(error) lacks \(part)", line: line) }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("runs/bad/first").path), "nothing ran", line: line)
    }

    /// Bad files stop before anything runs, at file:line: key, with what is accepted.
    func testFileErrorsNameTheLineAndTheAcceptedKeys() throws {
        expectError(try pipeline(second: "{times: 3, colour: red}"), ["toy.yaml:9: stages.second.options.colour", "toy repeat has no option `colour`", "options: times, rate, label"])
        expectError(try pipeline(second: "{times: three}"), ["toy.yaml:9: times", "\"three\" is not a whole number"])
        expectError(try pipeline(second: "{times: 0}"), ["toy.yaml:9: times", "must be > 0"])
        expectError(try pipeline(second: "{text: first}", inputs: "{}"), ["toy.yaml:9", "`text` is an input of toy repeat, not an option"])
        expectError(try pipeline(inputs: "{text: first, times: first}"), ["toy.yaml:8", "`times` is an option of toy repeat, not an input"])
        expectError(try pipeline(inputs: "{words: first}"), ["toy.yaml:8", "toy repeat has no input `words` (inputs: text)"])
        expectError(try pipeline(inputs: "{text: [first, first]}"), ["toy.yaml:8", "takes at most one `text` input, 2 given"])
        expectError(try pipeline(inputs: "{text: third}"), ["toy.yaml:8", "names no stage of this file"])
        expectError(try pipeline(first: "{times: 1}\n    inputs: {text: second}"), ["toy.yaml:", "cycle"])
    }

    /// The keys a file or command line may give are the Swift property names, hyphenated.
    func testKeysAreThePropertyNamesHyphenated() throws {
        XCTAssertEqual(ParameterKeys.key(ofProperty: "maxNewTokens"), "max-new-tokens")
        XCTAssertEqual(ParameterKeys.key(ofProperty: "hidden_size"), "hidden_size")
        XCTAssertEqual(try ToyRepeatStage.acceptedKeys(), ["times", "rate", "label"])
        XCTAssertEqual(try OracleEvalStage.acceptedKeys(), ["template", "max-new-tokens", "temperature", "seed", "weights", "title"])
        let decoded = try ParameterKeys.decode(ToyRepeatStage.Parameters.self, [ParameterEntry(key: "label", values: ["x"], place: "--label")],
                                               kind: ToyRepeatStage.kind)
        XCTAssertEqual(decoded, ToyRepeatStage.Parameters(times: 2, rate: 0.5, label: "x"), "absent keys keep their defaults")
    }
}
