// `plumb task annotate`: the built-in task's simulated annotators complete an rs stage's human task
// file (TaskAnnotator), as a month's labelling team would, and write a Label Studio export in the
// shape Label Studio gives (the task's data, `annotations[].result[]`): `plumb rs-merge` reads it.
// With `--as comparisons` they compare pairs of a ranking file's samples instead and write TRL-style
// comparisons JSONL with both dimensions, strength and safety labels (TaskAnnotateComparisons).

import ArgumentParser
import Foundation
import PlumbOracle
import PlumbStages
import PlumbTask

struct TaskAnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Complete human-rank-tasks.json or human-edit-tasks.json with the task's simulated annotators (a Label Studio export), or compare pairs of a ranking file's samples (--as comparisons).")

    @Option(help: "The task directory, or a month directory of `plumb task month` (its task.json gives the annotators' noise).") var task: String
    @Option(help: "A task file written by `plumb rs` (human-rank-tasks.json or human-edit-tasks.json).") var tasks: String
    @Option(help: "The file to write: the Label Studio export, or with --as comparisons the comparisons JSONL.") var out: String
    @Option(help: "Seed of the annotators' draws (with each prompt id).") var seed: UInt64 = 1
    @Option(name: .customLong("as"), help: "What to write: label-studio (the completed tasks as a Label Studio export) or comparisons (pairs of a ranking file's samples judged as TRL-style JSONL, like the task's comparisons.jsonl).")
    var output: AnnotateOutput = .labelStudio
    @Option(help: "With --as comparisons: pairs judged per ranking task, drawn from all its pairs (fewer when it has fewer).")
    var pairsPerTask = 1

    enum AnnotateOutput: String, ExpressibleByArgument {
        case labelStudio = "label-studio"
        case comparisons
    }

    func validate() throws {
        guard pairsPerTask >= 1 else { throw ValidationError("--pairs-per-task must be at least 1") }
    }

    func run() throws {
        let manifestFile = URL(fileURLWithPath: task).appendingPathComponent(TaskFiles.manifest)
        let manifest: TaskManifest
        do { manifest = try JSONDecoder().decode(TaskManifest.self, from: Data(contentsOf: manifestFile)) } catch {
            throw CLIError("\(manifestFile.path): cannot read the task's manifest: \(error)")
        }
        let annotator = TaskAnnotator(settings: manifest.settings.annotation, seed: seed)
        let file = URL(fileURLWithPath: tasks)
        let export: Data, count: Int
        if output == .comparisons {
            guard try Self.isRanking(file) else {
                throw CLIError("\(tasks): --as comparisons compares the samples of a ranking task file (human-rank-tasks.json); this one has no items")
            }
            let (records, s) = try TaskAnnotateComparisons.records(try HumanTasks.read(HumanRankData.self, from: file), annotator,
                                                                   pairsPerTask: pairsPerTask)
            try TaskAnnotateComparisons.jsonLines(records).write(to: URL(fileURLWithPath: out), options: .atomic)
            let dimensions = s.perDimension.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("task annotate: \(s.pairs) comparisons (\(dimensions.isEmpty ? "none" : dimensions)) of \(s.tasks) tasks of \(tasks); "
                  + "\(s.tied) tied for the oracle, \(s.disagreeing) chose the oracle's worse, \(s.wrongSafetyLabels) with a wrong safety label -> \(out)")
            return
        }
        if try Self.isRanking(file) {
            let done = try TaskAnnotate.rankings(try HumanTasks.read(HumanRankData.self, from: file), annotator)
            (export, count) = (try Self.encode(done), done.count)
        } else {
            let done = try TaskAnnotate.edits(try HumanTasks.read(HumanEditData.self, from: file), annotator)
            (export, count) = (try Self.encode(done), done.count)
        }
        try export.write(to: URL(fileURLWithPath: out), options: .atomic)
        print("task annotate: \(count) tasks of \(tasks) completed -> \(out)")
    }

    /// A ranking file's tasks carry `items`; an empty file counts as either.
    static func isRanking(_ file: URL) throws -> Bool {
        let tasks = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [[String: Any]]
        guard let tasks else { throw CLIError("\(file.path): a task file is a JSON list of {\"data\": ...} tasks") }
        return (tasks.first?["data"] as? [String: Any])?["items"] != nil
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// Tasks completed as Label Studio exports them: numbered from 1, one annotation each, the prompt id
/// as the task's record id.
enum TaskAnnotate {
    static func rankings(_ tasks: [HumanTask<HumanRankData>], _ annotator: TaskAnnotator) throws -> [LabelStudioTask<HumanRankData, RankerValue>] {
        try tasks.enumerated().map { i, t in
            let (order, who) = try annotator.rank(prompt: t.data.prompt, responses: t.data.items.map(\.body), key: t.data.promptID)
            let result = LabelStudioResult(id: "rank-\(i)", fromName: "rank", toName: "samples", type: "ranker", origin: "manual",
                                           value: RankerValue(ranker: order.map { t.data.items[$0].id }))
            return LabelStudioTask(id: i + 1, data: t.data, annotations: [LabelStudioAnnotation(id: i + 1, completedBy: who.userId, result: [result])],
                                   meta: TaskMeta(recordId: t.data.promptID))
        }
    }

    static func edits(_ tasks: [HumanTask<HumanEditData>], _ annotator: TaskAnnotator) throws -> [LabelStudioTask<HumanEditData, TextAreaValue>] {
        try tasks.enumerated().map { i, t in
            let (text, who) = try annotator.edit(prompt: t.data.prompt, key: t.data.promptID)
            let result = LabelStudioResult(id: "edit-\(i)", fromName: "corrected", toName: "response", type: "textarea", origin: "manual",
                                           value: TextAreaValue(text: [text]))
            return LabelStudioTask(id: i + 1, data: t.data, annotations: [LabelStudioAnnotation(id: i + 1, completedBy: who.userId, result: [result])],
                                   meta: TaskMeta(recordId: t.data.promptID))
        }
    }
}
