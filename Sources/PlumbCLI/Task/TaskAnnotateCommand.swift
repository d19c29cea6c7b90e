// `plumb task annotate`: the built-in task's simulated annotators complete an rs stage's human task
// file (TaskAnnotator), as a month's labelling team would, and write a Label Studio export in the
// shape Label Studio gives (the task's data, `annotations[].result[]`): `plumb rs-merge` reads it.
// With `--as comparisons` they compare pairs of a ranking file's samples instead and write TRL-style
// comparisons JSONL with both dimensions, strength and safety labels (TaskAnnotateComparisons).

import ArgumentParser
import Foundation
import PlumbEval
import PlumbStages

struct TaskAnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Complete human-rank-tasks.json or human-edit-tasks.json with the task's simulated annotators (a Label Studio export), or compare pairs of a ranking file's samples (--as comparisons).")

    @Option(help: "The task directory, or a month directory of `plumb task month` (its task.json gives the annotators' noise).") var task: String
    @Option(help: "A task file written by `plumb rs` (human-rank-tasks.json or human-edit-tasks.json).") var tasks: String
    @Option(help: "Stage directory to write: RUNS/RUN/STAGE; it holds annotations.json (the Label Studio export) or, with --as comparisons, comparisons.jsonl.") var out: String
    @Option(help: "Seed of the annotators' draws (with each prompt id).") var seed: UInt64 = 1
    @Option(name: .customLong("as"), help: "What to write: label-studio (the completed tasks as a Label Studio export) or comparisons (pairs of a ranking file's samples judged as TRL-style JSONL, like the task's comparisons.jsonl).")
    var output: AnnotateOutput = .labelStudio
    @Option(help: "With --as comparisons: pairs judged per ranking task, drawn from all its pairs (fewer when it has fewer).")
    var pairsPerTask = 1

    enum AnnotateOutput: String, ExpressibleByArgument {
        case labelStudio = "label-studio"
        case comparisons
    }

    func run() throws {
        let inputs = StageInputs(["task": [fileURL(task)], "tasks": [fileURL(tasks)]])
        let location = StageLocation(directory: fileURL(out))
        if output == .comparisons {
            var p = TaskAnnotateComparisonsStage.Parameters()
            (p.seed, p.pairsPerTask) = (seed, pairsPerTask)
            let s = try StageRun.run(TaskAnnotateComparisonsStage.self, p, inputs: inputs, location: location)
            return print("task annotate: \(s.text(tasks: tasks)) -> \(out)")
        }
        var p = TaskAnnotateStage.Parameters()
        p.seed = seed
        let s = try StageRun.run(TaskAnnotateStage.self, p, inputs: inputs, location: location)
        print("task annotate: \(s.tasks) tasks of \(tasks) completed -> \(out)/\(TaskAnnotateStage.mainFile!)")
    }
}
