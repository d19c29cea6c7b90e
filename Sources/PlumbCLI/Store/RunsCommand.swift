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
        if json { return try runs.forEach { try printJSON($0.listJSON) } }
        var table = TextTable(RunSummary.listHeaders, rightAligned: [1, 2, 3, 4, 5])
        runs.forEach { table.add($0.listRow) }
        print(runs.isEmpty ? "no runs under \(root)" : table.render())
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
        if json { try summary.stages.forEach { try printJSON($0.showJSON) }; return }
        print("run \(summary.name)  (\(directory.path), lock: \(summary.lock.text))")
        var table = TextTable(CatalogedStage.showHeaders, rightAligned: [3, 4, 5])
        summary.stages.forEach { table.add($0.showRow(metrics: metrics)) }
        print(table.render())
        for stage in summary.stages {
            if let error = stage.manifest?.error ?? stage.problem { print("\(stage.name): \(error)") }
        }
    }
}
