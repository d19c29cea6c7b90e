// The pipeline runner: file errors name the file, line and key before anything runs; a complete run
// reruns nothing; an option change reruns that stage and its descendants only (and the plan says so
// first); a moved run stays complete; earlier runs are reached through --previous; an interrupted
// stage resumes only under the same key.
import Foundation
import PlumbEval
import PlumbStages
import PlumbStore
import XCTest
@testable import PlumbPipeline

final class PipelineTests: XCTestCase {
    /// A small pipeline of cheap stages: the quick task, two imports and a model config.
    static let small = """
    pipeline: small
    settings:
      a: {seed: 3, hidden: 32}
      b: {seed: 3, hidden: 48}
    stages:
      task:
        kind: task generate
        options: {seed: "${seed}", quick: true}
      import-sft:
        kind: import
        inputs: {file: task/sft.jsonl}
      import-comparisons:
        kind: import
        inputs: {file: task/comparisons.jsonl}
        options: {validation-fraction: 0.1}
      config:
        kind: model-config
        options: {hidden_size: "${hidden}", tie_word_embeddings: true}
    """

    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-pipeline-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func write(_ text: String, _ name: String = "pipeline.yaml") throws -> URL {
        let file = root.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file
    }

    func session(_ file: URL, run: String, previous: String? = nil, profile: String? = nil) throws -> PipelineSession {
        try PipelineSession.open(file: file.path, run: root.appendingPathComponent(run), previous: previous.map { root.appendingPathComponent($0) },
                                 profile: profile, overrides: [:], acceptCodeChange: false, services: .quiet)
    }

    func statuses(_ session: PipelineSession) throws -> [String: PipelineStageStatus] {
        Dictionary(uniqueKeysWithValues: try session.runner.plan().map { ($0.stage.name, $0.status) })
    }

    func expectError(_ text: String, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try write(text, "bad.yaml")
        XCTAssertThrowsError(try session(url, run: "bad"), file: file, line: line) { error in
            for part in parts { XCTAssertTrue("\(error)".contains(part), "\(error) lacks \(part)", file: file, line: line) }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("bad").path), "nothing may be written", file: file, line: line)
    }

    func testFileErrorsNameFileLineAndKey() throws {
        try expectError("stages:\n  a:\n    kind: nonsense\n", contains: ["bad.yaml:2: stages.a", "unknown stage kind \"nonsense\""])
        try expectError("stages:\n  a:\n    kind: task generate\n    options:\n      quick: true\n      colour: red\n",
                        contains: ["bad.yaml:6: stages.a.options.colour", "task generate has no option `colour`", "options: seed, preset, quick"])
        try expectError("stages:\n  a:\n    kind: import\n    inputs: {file: nowhere/x.jsonl}\n",
                        contains: ["bad.yaml:4: stages.a.inputs.file", "names no stage"])
        try expectError("stages:\n  a:\n    kind: import\n    inputs: {file: b/x.jsonl}\n  b:\n    kind: import\n    inputs: {file: a/y.jsonl}\n",
                        contains: ["bad.yaml:", "cycle", "a, b"])
        try expectError("stages:\n  a:\n    kind: task generate\n    colour: red\n", contains: ["bad.yaml:4: stages.a.colour", "unknown key"])
        try expectError("stages:\n  a:\n    kind: task generate\n    options: {seed: \"${nope}\"}\n", contains: ["bad.yaml:4", "no setting \"nope\""])
        try expectError("stages:\n  a:\n    kind: import\n    inputs: {file: previous:task/x.jsonl}\n", contains: ["bad.yaml:4", "needs --previous"])
        // The import kind as a value: its options are its parameters, its files an input.
        let task = "stages:\n  task:\n    kind: task generate\n  a:\n    kind: import\n    inputs: {file: task/x.jsonl}\n"
        try expectError(task + "    options: {colour: red}\n", contains: ["bad.yaml:7", "import has no option `colour`", "validation-fraction", "keep-ties"])
        try expectError(task + "    options: {validation-fraction: lots}\n", contains: ["bad.yaml:7", "validation-fraction", "\"lots\" is not a number"])
        try expectError(task + "    options: {file: task/y.jsonl}\n", contains: ["bad.yaml:7", "`file` is an input of import, not an option"])
        try expectError(task + "    options: {format: nonsense}\n", contains: ["bad.yaml:7", "format", "\"nonsense\" is not a format"])
        try expectError("stages:\n  task:\n    kind: task generate\n  a:\n    kind: import\n    inputs: {texts: task/x.jsonl}\n",
                        contains: ["bad.yaml:", "import takes one or more `file` input, 0 given"])
    }

    func testRerunChangeAndMove() throws {
        let file = try write(Self.small)
        let first = try session(file, run: "r1", profile: "a")
        XCTAssertEqual(try statuses(first)["task"], .toRun(""))
        let ran = try first.runner.execute()
        XCTAssertEqual(ran.filter { !$0.1.isComplete }.count, 4)

        // Rerun: every stage complete, nothing runs.
        let again = try session(file, run: "r1", profile: "a")
        XCTAssertTrue(try statuses(again).values.allSatisfy(\.isComplete))
        XCTAssertTrue(try again.runner.execute().allSatisfy { $0.1.isComplete })

        // Another profile changes one option of `config`: only it is stale, and the plan says why.
        let other = try session(file, run: "r1", profile: "b")
        let plan = try statuses(other)
        XCTAssertEqual(plan["config"], .stale("option hidden_size 32 -> 48"))
        XCTAssertEqual(plan.filter { !$0.value.isComplete }.count, 1)

        // A changed option of the task makes its descendants stale too.
        let seedChanged = try write(Self.small.replacingOccurrences(of: "seed: 3, hidden: 32", with: "seed: 4, hidden: 32"), "seed.yaml")
        let plan2 = try statuses(try session(seedChanged, run: "r1", profile: "a"))
        XCTAssertEqual(plan2["task"], .stale("option seed 3 -> 4"))
        XCTAssertEqual(plan2["import-sft"], .stale("input task will run first"))
        XCTAssertEqual(plan2["config"], .complete)

        // A copy of the run elsewhere is complete: keys hold no paths.
        try FileManager.default.copyItem(at: root.appendingPathComponent("r1"), to: root.appendingPathComponent("moved"))
        XCTAssertTrue(try statuses(try session(file, run: "moved", profile: "a")).values.allSatisfy(\.isComplete))

        // A second run from scratch writes the same content.
        let second = try session(file, run: "r2", profile: "a")
        try second.runner.execute()
        for stage in ["task", "import-sft", "import-comparisons", "config"] {
            XCTAssertEqual(try PipelineStageRecord.read(root.appendingPathComponent("r1/\(stage)"))?.output,
                           try PipelineStageRecord.read(root.appendingPathComponent("r2/\(stage)"))?.output, stage)
        }

        // A file changed under a complete stage makes it stale.
        try Data("x".utf8).write(to: root.appendingPathComponent("r2/config/config.json"))
        XCTAssertEqual(try statuses(try session(file, run: "r2", profile: "a"))["config"], .stale("its files changed since it completed"))
    }

    func testInterruptedStageResumesOnlyUnderItsKey() throws {
        let file = try write(Self.small)
        let s = try session(file, run: "r", profile: "a")
        try s.runner.execute(selected: ["task"])
        let config = root.appendingPathComponent("r/config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        let stage = try XCTUnwrap(s.graph.stage("config"))
        let key = try s.runner.key(stage)
        try PipelineStageRecord.markStarted(config, key: key)
        XCTAssertEqual(try s.runner.status(stage, pending: []), .toRun("resumes an interrupted run"))
        try PipelineStageRecord.markStarted(config, key: "another")
        try Data("left over".utf8).write(to: config.appendingPathComponent("stray"))
        XCTAssertEqual(try s.runner.status(stage, pending: []), .toRun("clears an interrupted run with other settings"))
        try s.runner.execute(selected: ["config"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.appendingPathComponent("stray").path))
        XCTAssertEqual(try s.runner.status(stage, pending: []), .complete)
    }

    /// A stage killed after its writer began: the writer replaced the directory (the runner's
    /// started marker with it), and its unfinished manifest's cache key, a value kind's pipeline key,
    /// says which attempt it was, so the plan resumes it under the same key and clears it under another.
    func testAKilledValueStageResumesByItsManifestsKey() throws {
        let file = try write(Self.small)
        let s = try session(file, run: "r", profile: "a")
        let stage = try XCTUnwrap(s.graph.stage("config"))
        let key = try s.runner.key(stage)
        for (given, expected) in [(key, PipelineStageStatus.toRun("resumes an interrupted run")),
                                  ("another", .toRun("clears an interrupted run with other settings"))] {
            let writer = try StageWriter.begin(runsRoot: root, run: "r", stage: "config", kind: "model-config", config: ["hidden_size": 32],
                                               replaceComplete: true, key: given, log: { _ in })
            writer.fail(PipelineError("killed"))
            XCTAssertNil(try PipelineStageRecord.read(root.appendingPathComponent("r/config")))
            XCTAssertEqual(try s.runner.status(stage, pending: []), expected)
        }
    }

    func testPreviousRuns() throws {
        let file = try write(Self.small)
        let monthly = try write("""
        pipeline: month
        stages:
          import-more:
            kind: import
            inputs: {file: latest:task/comparisons.jsonl}
          config:
            kind: model-config
            options: {hidden_size: 8}
          month-config:
            kind: model-config
            options: {num_hidden_layers: "${month}"}
        """, "monthly.yaml")
        // An incomplete previous run is refused before anything runs.
        _ = try session(file, run: "m1", profile: "a")
        XCTAssertThrowsError(try session(monthly, run: "m2", previous: "m1")) { XCTAssertTrue("\($0)".contains("incomplete"), "\($0)") }
        try session(file, run: "m1", profile: "a").runner.execute()
        let m2 = try session(monthly, run: "m2", previous: "m1")
        try m2.runner.execute()
        let record = try XCTUnwrap(try PipelineStageRecord.read(root.appendingPathComponent("m2/import-more")))
        XCTAssertEqual(record.inputs["file"]?.first?.stage, "../m1/task")
        XCTAssertEqual(try PipelineRunRecord.read(root.appendingPathComponent("m2"))?.previous, "../m1")
        // ${month} is the run's place in its chain.
        func layers(_ run: String) throws -> Int? {
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("\(run)/month-config/config.json")))
            return (config as? [String: Any])?["num_hidden_layers"] as? Int
        }
        XCTAssertEqual(try layers("m2"), 2)
        // history: reaches every earlier run that has the stage, oldest first.
        let m3 = try session(monthly, run: "m3", previous: "m2")
        try m3.runner.execute()
        XCTAssertEqual(try layers("m3"), 3)
        let dirs = try m3.graph.chain.stageDirectories(try PipelineRef("history:config", at: .init(file: "", line: 0, key: "")),
                                                       at: .init(file: "", line: 0, key: ""))
        XCTAssertEqual(dirs.map { $0.deletingLastPathComponent().lastPathComponent }, ["m1", "m2"])
        // A chain of three followed back from a run URL without a trailing slash (as `plumb demo` makes
        // them before the directory exists): each `previous` is relative to its run's directory.
        let bare = URL(fileURLWithPath: root.appendingPathComponent("m3").path, isDirectory: false)
        let chain = try PipelineRunChain.open(run: root.appendingPathComponent("m4"), previous: bare)
        XCTAssertEqual(chain.earlier.map(\.lastPathComponent), ["m3", "m2", "m1"])
        // The same run directory with another previous run is refused.
        XCTAssertThrowsError(try session(monthly, run: "m2")) { XCTAssertTrue("\($0)".contains("was started with"), "\($0)") }
    }
}

extension PipelineServices {
    /// The standard build's stage kinds, the task generator as the run's task, nothing printed.
    static let quiet = quiet(StageRegistry.standard)

    static func quiet(_ registry: StageRegistry) -> PipelineServices {
        PipelineServices(registry: registry, log: { _ in }, taskKind: .taskGenerate)
    }
}
