// Deciding and running a pipeline's stages. A stage is complete when its record's key equals the key
// of its current inputs, options and code and its files still have the checksum recorded; stale
// when a record exists under another key (the reason says which option, input or code changed); to
// run otherwise. Running a stage clears stale outputs, keeps an interrupted stage's files when it
// was started with the same key (it resumes from its checkpoints), runs it in this process through
// `StageInvocation` (the code `plumb KIND` runs), then records the key and the checksum of what it
// wrote.
import Foundation
import PlumbStages
import PlumbStore

public enum PipelineStageStatus: Equatable {
    case complete
    case stale(String)
    case toRun(String)

    public var isComplete: Bool { self == .complete }

    public var text: String {
        switch self {
        case .complete: return "complete"
        case .stale(let why): return "stale: \(why)"
        case .toRun(let why): return why.isEmpty ? "to run" : "to run: \(why)"
        }
    }
}

public struct PipelineRunner {
    public let graph: PipelineGraph
    let services: PipelineServices
    /// Treat a stage whose only change is the code version as complete.
    var acceptCodeChange = false

    public var run: URL { graph.chain.run }
    func directory(_ stage: PipelineStage) -> URL { run.appendingPathComponent(stage.name) }

    /// The key inputs of `stage` as they are on disk now: per option, each input stage's record.
    func inputRecords(_ stage: PipelineStage) throws -> [String: [PipelineInputRecord]] {
        var out: [String: [PipelineInputRecord]] = [:]
        for input in try graph.inputDirectories(stage) {
            out[input.option, default: []] += try input.refs.map { ref, dir in
                guard let record = try PipelineStageRecord.read(dir) else { throw PipelineError("\(dir.path) is not complete") }
                return PipelineInputRecord(ref: ref.text, stage: graph.chain.relative(dir), checksum: record.output)
            }
        }
        return out
    }

    /// The stage's key: its manifest's cache key (StageKey).
    func key(_ stage: PipelineStage) throws -> String { try invocation(stage).key(runsRoot: runsRoot) }

    var runsRoot: URL { run.deletingLastPathComponent() }

    /// The stage as parameters and inputs by slot (the paths each reference means).
    func invocation(_ stage: PipelineStage) throws -> StageInvocation {
        var paths: [String: [URL]] = [:]
        for input in try graph.inputDirectories(stage) {
            paths[input.option, default: []] += input.refs.map { graph.path($0.ref, stageDirectory: $0.stage).standardizedFileURL }
        }
        return StageInvocation(stage: stage.kind.stage, parameters: PipelineValueCheck.entries(stage.spec), inputs: StageInputs(paths))
    }

    /// The status of every stage, in order.
    public func plan() throws -> [(stage: PipelineStage, status: PipelineStageStatus)] {
        var out: [(stage: PipelineStage, status: PipelineStageStatus)] = []
        var pending = Set<String>()
        for stage in graph.stages {
            let status = try status(stage, pending: pending)
            if !status.isComplete { pending.insert(stage.name) }
            out.append((stage, status))
        }
        return out
    }

    /// The status of `stage` when the stages in `pending` will run before it.
    func status(_ stage: PipelineStage, pending: Set<String>) throws -> PipelineStageStatus {
        let dir = directory(stage)
        let record = try PipelineStageRecord.read(dir)
        if let waiting = stage.dependencies.first(where: pending.contains) {
            return record == nil ? .toRun("after \(waiting)") : .stale("input \(waiting) will run first")
        }
        let inputs = try inputRecords(stage)
        let key = try key(stage)
        guard let record else {
            guard let started = PipelineStageRecord.startedKey(dir) else { return .toRun("") }
            return .toRun(started == key ? "resumes an interrupted run" : "clears an interrupted run with other settings")
        }
        if record.key != key {
            let reasons = differences(record, stage: stage, inputs: inputs)
            if !(acceptCodeChange && reasons == ["code version changed"]) { return .stale(reasons.joined(separator: "; ")) }
        }
        guard try StageContent.checksum(dir) == record.output else { return .stale("its files changed since it completed") }
        return .complete
    }

    /// Why a record's key differs from the current one, in words.
    func differences(_ record: PipelineStageRecord, stage: PipelineStage, inputs: [String: [PipelineInputRecord]]) -> [String] {
        var reasons: [String] = []
        if record.kind != stage.kind.name { reasons.append("kind \(record.kind) -> \(stage.kind.name)") }
        let options = stage.keyOptions
        for name in Set(options.keys).union(record.options.keys).sorted() where options[name] != record.options[name] {
            let old = record.options[name]?.joined(separator: ",") ?? "unset", new = options[name]?.joined(separator: ",") ?? "unset"
            reasons.append("option \(name) \(old) -> \(new)")
        }
        for name in Set(inputs.keys).union(record.inputs.keys).sorted() where inputs[name]?.map(\.checksum) != record.inputs[name]?.map(\.checksum) {
            let refs = (inputs[name] ?? record.inputs[name] ?? []).map(\.ref).joined(separator: ", ")
            reasons.append("input \(name) (\(refs)) changed")
        }
        if record.code != PipelineCodeVersion.text { reasons.append("code version changed") }
        return reasons.isEmpty ? ["key changed"] : reasons
    }

    /// Runs what is needed among `selected` stages (all by default), in order; returns each stage's
    /// status before it ran.
    @discardableResult
    public func execute(selected: Set<String>? = nil, steps: PipelineStepObserver? = nil) throws -> [(String, PipelineStageStatus)] {
        var out: [(String, PipelineStageStatus)] = []
        for stage in graph.stages where selected?.contains(stage.name) ?? true {
            for dependency in stage.dependencies {
                guard try PipelineStageRecord.read(run.appendingPathComponent(dependency)) != nil else {
                    throw PipelineError("\(stage.name) needs \(dependency), which is not complete: run it first (or leave out --only)")
                }
            }
            let status = try status(stage, pending: [])
            out.append((stage.name, status))
            if status.isComplete {
                services.log("== \(stage.name): complete")
                steps?.skip(stage.name)
                continue
            }
            services.log("== \(stage.name) (\(stage.kind.name)): \(status.text)")
            if let steps { try steps.run(stage.name) { try runStage(stage) } } else { try runStage(stage) }
        }
        return out
    }

    /// Runs one stage whose inputs are complete and records it.
    func runStage(_ stage: PipelineStage) throws {
        let dir = directory(stage)
        let inputs = try inputRecords(stage)
        let key = try key(stage)
        let fm = FileManager.default
        if fm.fileExists(atPath: dir.path) {
            let resumable = try PipelineStageRecord.read(dir) == nil && PipelineStageRecord.startedKey(dir) == key
            if !resumable { try fm.removeItem(at: dir) }
        }
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        try PipelineStageRecord.markStarted(dir, key: key)
        let start = DispatchTime.now().uptimeNanoseconds
        let invocation = try invocation(stage)
        let location = try services.location(StageLocation(runsRoot: runsRoot, run: run.lastPathComponent, stage: stage.name),
                                             try invocation.distributedMode())
        try invocation.run(location: location, environment: services.environment, progress: services.progress(stage.name), log: services.log)
        let record = PipelineStageRecord(stage: stage.name, kind: stage.kind.name, key: key, options: stage.keyOptions, inputs: inputs,
                                         code: PipelineCodeVersion.text, output: try StageContent.checksum(dir),
                                         seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, completedAt: ISO8601DateFormatter().string(from: Date()))
        try record.write(dir)
        try? fm.removeItem(at: dir.appendingPathComponent(PipelineStageRecord.startedFileName))
    }

    /// `names` and every stage they read from, transitively.
    public func withAncestors(_ names: [String]) throws -> Set<String> {
        var out = Set<String>(), queue = names
        while let name = queue.popLast() {
            guard let stage = graph.stage(name) else {
                throw PipelineError("\(graph.file.path): no stage \"\(name)\" (stages: \(graph.stages.map(\.name).joined(separator: ", ")))")
            }
            if out.insert(name).inserted { queue += stage.dependencies }
        }
        return out
    }
}
