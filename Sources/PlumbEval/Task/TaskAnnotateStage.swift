// `plumb task annotate` as stages: the built-in task's simulated annotators complete an rs stage's
// human task file (TaskAnnotator), as a month's labelling team would, and write a Label Studio export
// (`annotations.json`, the task's data with `annotations[].result[]`) that `rs-merge` reads; or
// (`task annotate comparisons`) compare pairs of a ranking file's samples and write TRL-style
// comparisons JSONL (`comparisons.jsonl`) with both dimensions, strength and safety labels.
import Foundation
import PlumbOracle
import PlumbStages
import PlumbStore
import PlumbTask

extension StageKind {
    public static let taskAnnotate: StageKind = "task annotate"
    public static let taskAnnotateComparisons: StageKind = "task annotate comparisons"
}

/// The task's annotators and the task file they complete.
public struct AnnotationWork {
    var annotator: TaskAnnotator
    var tasks: URL
    var isRanking: Bool

    /// Reads the task's (or month's) task.json for the annotators' noise.
    static func load(_ inputs: StageInputs, seed: UInt64) throws -> AnnotationWork {
        let manifestFile = try inputs.one("task").appendingPathComponent(TaskFiles.manifest)
        let manifest: TaskManifest
        do { manifest = try JSONDecoder().decode(TaskManifest.self, from: Data(contentsOf: manifestFile)) } catch {
            throw StageError("\(manifestFile.path): cannot read the task's manifest: \(error)")
        }
        let tasks = try inputs.one("tasks")
        return AnnotationWork(annotator: TaskAnnotator(settings: manifest.settings.annotation, seed: seed), tasks: tasks,
                              isRanking: try isRanking(tasks))
    }

    /// A ranking file's tasks carry `items`; an empty file counts as either.
    static func isRanking(_ file: URL) throws -> Bool {
        let tasks = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [[String: Any]]
        guard let tasks else { throw StageError("\(file.path): a task file is a JSON list of {\"data\": ...} tasks") }
        return (tasks.first?["data"] as? [String: Any])?["items"] != nil
    }

    static let slots = [
        InputSlot("task", .one, "The task directory, or a task month stage (its task.json gives the annotators' noise)."),
        InputSlot("tasks", .one, "A task file written by rs (human-rank-tasks.json or human-edit-tasks.json)."),
    ]
}

public enum TaskAnnotateStage: Stage {
    public static let kind = StageKind.taskAnnotate
    public static let abstract = "Complete human-rank-tasks.json or human-edit-tasks.json with the task's simulated annotators (a Label Studio export)."
    public static let mainFile: String? = "annotations.json"
    public static let slots = AnnotationWork.slots

    public struct Parameters: StageParameters, Equatable {
        /// Seed of the annotators' draws (with each prompt id).
        public var seed: UInt64 = 1
        public init() {}
        public var manifestSeed: UInt64? { seed }
    }

    public struct Summary: StageSummary {
        public var tasks: Int
        public var metrics: [String: Double] { ["tasks": Double(tasks)] }
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<AnnotationWork> {
        let work = try AnnotationWork.load(inputs, seed: parameters.seed)
        return Prepared(work, files: [work.tasks])
    }

    public static func execute(_ work: AnnotationWork, parameters: Parameters, stage: StageContext) throws -> Summary {
        let export: Data, count: Int
        if work.isRanking {
            let done = try TaskAnnotate.rankings(try HumanTasks.read(HumanRankData.self, from: work.tasks), work.annotator)
            (export, count) = (try TaskAnnotate.encode(done), done.count)
        } else {
            let done = try TaskAnnotate.edits(try HumanTasks.read(HumanEditData.self, from: work.tasks), work.annotator)
            (export, count) = (try TaskAnnotate.encode(done), done.count)
        }
        try export.write(to: stage.directory.appendingPathComponent(mainFile!), options: .atomic)
        try stage.recordWrittenFiles()
        return Summary(tasks: count)
    }
}

public enum TaskAnnotateComparisonsStage: Stage {
    public static let kind = StageKind.taskAnnotateComparisons
    public static let abstract = "Compare pairs of a ranking file's samples with the task's simulated annotators (TRL-style comparisons JSONL)."
    public static let mainFile: String? = "comparisons.jsonl"
    public static let slots = AnnotationWork.slots

    public struct Parameters: StageParameters, Equatable {
        public var seed: UInt64 = 1
        /// Pairs judged per ranking task, drawn from all its pairs (fewer when it has fewer).
        public var pairsPerTask = 1
        public init() {}
        public var manifestSeed: UInt64? { seed }
        public func validate() throws {
            guard pairsPerTask >= 1 else { throw StageParameterError("pairs-per-task", "must be at least 1") }
        }
    }

    public typealias Summary = TaskAnnotateComparisons.Summary

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<AnnotationWork> {
        let work = try AnnotationWork.load(inputs, seed: parameters.seed)
        guard work.isRanking else {
            throw StageError("\(work.tasks.path): task annotate comparisons compares the samples of a ranking task file (human-rank-tasks.json); this one has no items")
        }
        return Prepared(work, files: [work.tasks])
    }

    public static func execute(_ work: AnnotationWork, parameters: Parameters, stage: StageContext) throws -> Summary {
        let (records, summary) = try TaskAnnotateComparisons.records(try HumanTasks.read(HumanRankData.self, from: work.tasks), work.annotator,
                                                                     pairsPerTask: parameters.pairsPerTask)
        try TaskAnnotateComparisons.jsonLines(records).write(to: stage.directory.appendingPathComponent(mainFile!), options: .atomic)
        try stage.recordWrittenFiles()
        return summary
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

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
