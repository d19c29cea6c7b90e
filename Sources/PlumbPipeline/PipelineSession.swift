// Opening a pipeline in a run directory: the file parsed and checked as a graph, the chain of
// previous runs checked (complete, same task, the same previous as the run was started with), and
// the run's record written, all before any stage runs.
import Foundation
import PlumbStages

public struct PipelineSession {
    public var graph: PipelineGraph
    public var runner: PipelineRunner

    public static func open(file: String, run: URL, previous: URL?, profile: String?, overrides: [String: String],
                            acceptCodeChange: Bool, services: PipelineServices) throws -> PipelineSession {
        let runDirectory = run.standardizedFileURL
        let chain = try PipelineRunChain.open(run: runDirectory, previous: previous)
        let pipeline = try PipelineFile.load(file, builtIn: services.builtInFiles, profile: profile,
                                             overrides: builtInSettings(chain).merging(overrides) { $1 })
        let previousPath = chain.earlier.first.map(chain.relative)
        let existing = try PipelineRunRecord.read(runDirectory)
        if let existing, existing.previous != previousPath {
            throw PipelineError("\(runDirectory.path) was started with " + (existing.previous.map { "--previous \($0) (relative to it)" } ?? "no --previous")
                                + "; this call gives " + (previous.map { "--previous \($0.path)" } ?? "none") + ". Use another --run for another lineage.")
        }
        let graph = try PipelineGraph(pipeline, chain: chain, registry: services.registry)
        let session = PipelineSession(graph: graph, runner: PipelineRunner(graph: graph, services: services, acceptCodeChange: acceptCodeChange))
        let previousTask = try chain.earlier.first.flatMap { try PipelineRunRecord.read($0)?.task }
        let task = try session.taskChecksum() ?? existing?.task
        if let previousTask, let task, previousTask != task {
            throw PipelineError("\(chain.earlier[0].path) was made on another task (task checksum \(previousTask.prefix(12))…, this run's \(task.prefix(12))…)")
        }
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        try PipelineRunRecord(pipeline: pipeline.name, stages: graph.stages.map(\.name), previous: previousPath,
                              task: task ?? previousTask).write(runDirectory)
        return session
    }

    /// Settings every pipeline file may use: `month`, the run's place in its chain (1 + the number
    /// of earlier runs). They override the file's profiles; `--set` overrides them.
    static func builtInSettings(_ chain: PipelineRunChain) -> [String: String] {
        ["month": "\(chain.earlier.count + 1)"]
    }

    /// The output checksum of this run's task stage (`PipelineServices.taskKind`), when it is complete.
    func taskChecksum() throws -> String? {
        for stage in graph.stages where stage.kind.name == runner.services.taskKind?.name {
            if let record = try PipelineStageRecord.read(runner.directory(stage)) { return record.output }
        }
        return nil
    }

    /// Records the task once its stage has run.
    public func finish() throws {
        guard var record = try PipelineRunRecord.read(runner.run) else { return }
        if record.task == nil, let task = try taskChecksum() {
            record.task = task
            try record.write(runner.run)
        }
    }
}
