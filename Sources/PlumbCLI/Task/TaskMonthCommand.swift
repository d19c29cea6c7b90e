// `plumb task month`: a month's new prompt sets for iterative runs (TaskMonth, MonthFiles), drawn
// for an existing generated task: same world, same settings (its task.json), ids prefixed `mN-`,
// checked against the task's evaluation prompts before anything is written.

import ArgumentParser
import Foundation
import PlumbEval
import PlumbStages

struct TaskMonthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "month",
        abstract: "Write month N's prompt sets (prompts-rs, prompts-ppo, prompts-annotate, prompts-validate) for a generated task, with month.json and a copy of its task.json.")

    @Option(help: "A directory written by `plumb task generate` (its task.json and eval-prompts.jsonl are read).") var task: String
    @Option(help: "The month (2 or more; month 1 is the generated task).") var month: Int
    @Option(help: "Stage directory to write: RUNS/RUN/STAGE (created if missing).") var out: String
    @Option(help: "Seed (default: the task's seed); the same task, month, seed and counts give the same bytes.") var seed: UInt64?
    @Option(help: "Prompts in prompts-rs.jsonl (default: the task's sizes.rejectionSamplingPrompts).") var rsPrompts: Int?
    @Option(help: "Prompts in prompts-ppo.jsonl (default: the task's sizes.ppoPrompts).") var ppoPrompts: Int?
    @Option(help: "Prompts in prompts-annotate.jsonl (default: the task's sizes.annotatedPrompts).") var annotatePrompts: Int?
    @Option(help: "Prompts in prompts-validate.jsonl (default: the task's sizes.validationPrompts).") var validationPrompts: Int?

    func validate() throws {
        guard month >= 2 else { throw ValidationError("--month must be 2 or more (month 1 is the generated task itself)") }
        for (value, name) in [(rsPrompts, "--rs-prompts"), (ppoPrompts, "--ppo-prompts"), (annotatePrompts, "--annotate-prompts"),
                              (validationPrompts, "--validation-prompts")] {
            if let value, value < 0 { throw ValidationError("\(name) must not be negative") }
        }
    }

    func run() throws {
        var p = TaskMonthStage.Parameters()
        p.month = month
        p.seed = seed
        (p.rsPrompts, p.ppoPrompts, p.annotatePrompts, p.validationPrompts) = (rsPrompts, ppoPrompts, annotatePrompts, validationPrompts)
        let written = try StageRun.run(TaskMonthStage.self, p, inputs: StageInputs(["task": [fileURL(task)]]),
                                       location: StageLocation(directory: fileURL(out)))
        print(written.text(month: month) + " -> \(out)")
    }
}
