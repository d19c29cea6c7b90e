// `plumb pipeline plan|run FILE --run DIR [--previous DIR]`: the pipeline runner's commands.
import ArgumentParser
import Foundation
import PlumbEval
import PlumbPipeline

struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline", abstract: "Plan or run a pipeline file (YAML) of stages in a run directory.",
        subcommands: [PipelinePlanCommand.self, PipelineRunCommand.self])
}

struct PipelineOptions: ParsableArguments {
    @Argument(help: "The pipeline file (YAML; see docs/pipelines.md), or builtin:NAME for one the binary carries (main-job.yaml, monthly.yaml).") var file: String
    @Option(help: "The run directory (created if missing).") var run: String
    @Option(help: "An earlier run this one builds on (previous:, latest: and history: references).") var previous: String?
    @Option(help: "The settings profile of the file that fills ${NAME} (default: its first).") var settings: String?
    @Option(name: .customLong("set"), help: "NAME=VALUE: a ${NAME} value over the profile's (repeatable).") var values: [String] = []
    @Flag(help: "Count a stage whose only change is the code version as complete.") var acceptCodeChange = false

    func open() throws -> PipelineSession {
        let overrides = try PipelineSession.overrides(values)
        return try PipelineSession.open(file: file, run: URL(fileURLWithPath: run),
                                        previous: previous.map { URL(fileURLWithPath: $0) }, profile: settings, overrides: overrides,
                                        acceptCodeChange: acceptCodeChange, services: .standard)
    }
}

struct PipelinePlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Print the graph and each stage's status: complete, stale (and why) or to run.")
    @OptionGroup var options: PipelineOptions

    func run() throws {
        let session = try options.open()
        print(try session.planText())
    }
}

struct PipelineRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the stages that are not complete, in order, resuming interrupted ones.")
    @OptionGroup var options: PipelineOptions
    @Option(help: "Stop after this stage (runs only it and what it reads).") var until: String?
    @Option(help: "Run only this stage (its inputs must be complete).") var only: String?

    func validate() throws {
        if until != nil && only != nil { throw ValidationError("give at most one of --until and --only") }
    }

    func run() throws {
        let session = try options.open()
        var selected: Set<String>?
        if let until { selected = try session.runner.withAncestors([until]) }
        if let only {
            guard session.graph.stage(only) != nil else { throw PipelineError("\(options.file): no stage \"\(only)\"") }
            selected = [only]
        }
        let steps = MainJobSteps()
        let ran = try session.runner.execute(selected: selected, steps: steps)
        try session.finish()
        print(steps.table())
        print("\(ran.filter { $0.1.isComplete }.count) complete before, \(ran.filter { !$0.1.isComplete }.count) run, in \(session.runner.run.path)")
    }
}
