// `plumb runs ls|show|lineage`: the runs under a root, one run's stages with status, records, key
// metrics and lineage (which stage's outputs each stage read), and a pipeline stage's lineage tree.
import ArgumentParser
import Foundation
import PlumbStore

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List runs and their stages.",
        subcommands: [RunsListCommand.self, RunsShowCommand.self, RunsLineageCommand.self],
        defaultSubcommand: RunsListCommand.self
    )
}

struct RunsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "Runs under the runs directory, with stage counts by status.")

    @Option(help: "The runs directory.") var root: String = "runs"
    @Flag(help: "One JSON object per run.") var json = false

    func run() throws {
        let runs = try RunCatalog.runs(root: URL(fileURLWithPath: root))
        var table = TextTable(["run", "stages", "complete", "failed", "running", "interrupted", "lock"], rightAligned: [1, 2, 3, 4, 5])
        for run in runs {
            let count = { (state: StageState) in run.stages.filter { $0.state == state }.count }
            if json {
                try printJSON(["run": run.name, "stages": run.stages.count, "complete": count(.complete), "failed": count(.failed),
                               "running": count(.running), "interrupted": count(.interrupted), "lock": describe(run.lock)])
            } else {
                table.add([run.name, String(run.stages.count), String(count(.complete)), String(count(.failed)),
                           String(count(.running)), String(count(.interrupted)), describe(run.lock)])
            }
        }
        if !json { print(runs.isEmpty ? "no runs under \(root)" : table.render()) }
    }
}

struct RunsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One run's stages: status, records, key metrics, lineage.")

    @Argument(help: "A run name (under --root) or a run directory.") var runName: String
    @Option(help: "The runs directory.") var root: String = "runs"
    @Option(help: "Metrics shown per stage (the first N by name).") var metrics: Int = 3
    @Flag(help: "One JSON object per stage.") var json = false

    func run() throws {
        var directory = URL(fileURLWithPath: root).appendingPathComponent(runName)
        if !FileManager.default.fileExists(atPath: directory.path) { directory = URL(fileURLWithPath: runName) }
        let summary = try RunCatalog.run(directory)
        if summary.stages.isEmpty { throw CLIError("\(directory.path): no stages here", hint: "see `plumb runs ls --root DIR`") }
        if json { try summary.stages.forEach { try printJSON(stageJSON($0)) }; return }
        print("run \(summary.name)  (\(directory.path), lock: \(describe(summary.lock)))")
        var table = TextTable(["stage", "kind", "status", "records", "compressed", "time", "metrics", "from"], rightAligned: [3, 4, 5])
        for stage in summary.stages {
            let m = stage.manifest
            let outputs = m?.outputs ?? []
            let metricText = (m?.metrics ?? [:]).sorted { $0.key < $1.key }.prefix(metrics)
                .map { "\($0.key)=\(formatMetric($0.value))" }.joined(separator: " ")
            table.add([stage.name, m?.kind ?? "?", stage.state.rawValue, String(outputs.reduce(0) { $0 + $1.records }),
                       formatBytes(outputs.reduce(0) { $0 + $1.compressedBytes } + (m?.artifacts.reduce(0) { $0 + $1.compressedBytes } ?? 0)),
                       duration(m), metricText.isEmpty ? "-" : metricText, stage.upstream.isEmpty ? "-" : stage.upstream.joined(separator: ",")])
        }
        print(table.render())
        for stage in summary.stages {
            if let error = stage.manifest?.error ?? stage.problem { print("\(stage.name): \(error)") }
        }
    }

    private func stageJSON(_ stage: CatalogedStage) -> [String: Any] {
        var object: [String: Any] = ["stage": stage.name, "status": stage.state.rawValue, "from": stage.upstream]
        if let m = stage.manifest {
            object["kind"] = m.kind
            object["cache_key"] = m.cacheKey
            object["records"] = m.outputs.reduce(0) { $0 + $1.records }
            object["outputs"] = m.outputs.map { ["name": $0.name, "records": $0.records, "files": $0.files.count] as [String: Any] }
            object["metrics"] = m.metrics
            object["started_at"] = m.startedAt
            if let ended = m.endedAt { object["ended_at"] = ended }
            if let error = m.error { object["error"] = error }
        }
        if let problem = stage.problem { object["problem"] = problem }
        return object
    }
}

private func describe(_ lock: RunLock.Probe) -> String {
    switch lock {
    case .free: return "free"
    case .held(let holder): return "held by \(holder.map { "pid \($0.pid) on \($0.host)" } ?? "?")"
    case .stale(let holder): return "stale (pid \(holder.map { String($0.pid) } ?? "?") gone)"
    }
}

private func formatMetric(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e12 ? String(Int(value)) : String(format: "%.4g", value)
}

/// Wall time of a stage from its manifest's start and end stamps.
private func duration(_ manifest: StageManifest?) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    guard let m = manifest, let end = m.endedAt.flatMap(formatter.date), let start = formatter.date(from: m.startedAt) else { return "-" }
    return String(format: "%.1fs", end.timeIntervalSince(start))
}
