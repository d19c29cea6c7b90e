// `plumb task ...`: the built-in alignment task (PlumbTask). Thin: parse, call the library, print.

import ArgumentParser
import Foundation
import PlumbEval
import PlumbOracle
import PlumbStages
import PlumbTask

extension TaskPreset: ExpressibleByArgument {}

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "The built-in alignment task: a small world, simulated annotators, held-out prompts.",
        subcommands: [TaskGenerateCommand.self, TaskMonthCommand.self, TaskAuditCommand.self, TaskAnnotateCommand.self, TaskSettingsCommand.self]
    )
}

struct TaskGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the task's corpus, SFT data, annotations, prompt sets and eval sets to a directory."
    )

    @Option(help: "Seed; the same seed and settings give the same bytes.")
    var seed: UInt64 = 1

    @Option(help: "Stage directory to write: RUNS/RUN/STAGE (created if missing).")
    var out: String

    @Option(help: "Settings preset: \(TaskPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: TaskPreset = .standard

    @Flag(help: "Small sizes with the same rates, for CI (overrides --preset).")
    var quick = false

    @Option(help: "A settings JSON file (see data/task-standard.json); overrides --preset and --quick.")
    var settings: String?

    func run() throws {
        var p = TaskGenerateStage.Parameters()
        p.seed = seed
        (p.preset, p.quick) = (preset, quick)
        let started = Date()
        let summary = try StageRun.run(TaskGenerateStage.self, p, inputs: StageInputs(["settings": settings.map { [fileURL($0)] } ?? []]),
                                       location: StageLocation(directory: fileURL(out)))
        summary.records.sorted(by: { $0.key < $1.key }).forEach { print("\($0.key): \($0.value) records") }
        print(String(format: "wrote %@ in %.1f s (seed %llu)", out, Date().timeIntervalSince(started), seed))
    }
}

struct TaskSettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Print a settings preset as JSON (the format --settings reads)."
    )

    @Option(help: "Settings preset.")
    var preset: TaskPreset = .standard

    func run() throws {
        try printReport(preset.settings, pretty: true)
    }
}

struct TaskAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Re-measure a generated task with the oracle: flaw rates, annotator noise, held-out split."
    )

    @Option(help: "A directory written by `plumb task generate`.")
    var dir: String

    @Flag(help: "Print one JSON object instead of a summary.")
    var json = false

    func run() throws {
        let audit = try TaskAudit.run(directory: URL(fileURLWithPath: dir))
        if json { try printReport(audit) } else { print(audit.summaryText) }
    }
}
