// Completed Label Studio exports of the rs stage's human tasks, checked against the tasks sent out:
// every exported task must name (by `data.prompt_id`) a prompt of the matching task file, once, with
// the same prompt text and shown responses. Results are parsed by PlumbData's Label Studio reader
// (the importer's own converter). A cancelled task or one without a result is skipped (the prompt
// keeps the reward models' choice); anything else wrong is an error naming the file, the task and
// the field.
import Foundation
import PlumbData
import PlumbStore

/// A human's ranking of one prompt's samples: the top and bottom responses and their rank gap.
struct HumanRanking {
    var best: String
    var worst: String
    /// Rank of the worst minus rank of the best (0: the human ordered nothing).
    var rankGap: Int
    var annotator: String?
    var task: Int
}

/// A human's correction of one prompt's best response.
struct HumanCorrection {
    var original: String
    var edited: String
    var annotator: String?
    var task: Int
}

struct HumanAnswers<Answer> {
    var byPrompt: [String: Answer] = [:]
    /// Exported tasks with no usable annotation (cancelled, no result, empty text).
    var skipped = 0
}

enum HumanAnswerReader {
    static let skippable: Set<QuarantineReason> = [.cancelledAnnotation, .noAnnotation]

    static func rankings(_ export: URL, tasks: [HumanTask<HumanRankData>], tasksFile: URL) throws -> HumanAnswers<HumanRanking> {
        try read(export, tasks: tasks, tasksFile: tasksFile, config: HumanTasks.rankConfig, route: "ranking") { task, data, records in
            let rankings: [Ranking] = try records.map { record in
                guard case .ranking(let r) = record else { throw error(export, task, "annotations", "a \(record.kind.rawValue) result in a ranking export") }
                return r
            }
            guard let r = rankings.first, !r.responses.isEmpty else { return nil }
            let shown = Set(data.items.map(\.body))
            if let stranger = r.responses.first(where: { !shown.contains($0) }) {
                throw error(export, task, "data.items", "ranked response \"\(stranger.prefix(60))\" is not one of the \(shown.count) responses sent for prompt \(data.promptID)")
            }
            let top = r.ranks.indices.min { r.ranks[$0] < r.ranks[$1] }!
            let bottom = r.ranks.indices.max { r.ranks[$0] < r.ranks[$1] || (r.ranks[$0] == r.ranks[$1] && $0 < $1) }!
            return HumanRanking(best: r.responses[top], worst: r.responses[bottom], rankGap: r.ranks[bottom] - r.ranks[top],
                                annotator: r.annotator, task: task.index)
        }
    }

    static func edits(_ export: URL, tasks: [HumanTask<HumanEditData>], tasksFile: URL) throws -> HumanAnswers<HumanCorrection> {
        try read(export, tasks: tasks, tasksFile: tasksFile, config: HumanTasks.editConfig, route: "editing") { task, data, records in
            guard task.data["response"]?.stringValue == data.response else {
                throw error(export, task, "data.response", "the response differs from the one sent for prompt \(data.promptID) in \(tasksFile.path)")
            }
            let edits: [Edit] = try records.map { record in
                guard case .edit(let e) = record else { throw error(export, task, "annotations", "a \(record.kind.rawValue) result in an edit export") }
                return e
            }
            guard let e = edits.first, !e.edited.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
            return HumanCorrection(original: data.response, edited: e.edited, annotator: e.annotator, task: task.index)
        }
    }

    /// Each exported task matched to the task sent, then `answer` on its records (nil: skipped).
    private static func read<D: HumanTaskData, Answer>(
        _ export: URL, tasks: [HumanTask<D>], tasksFile: URL, config xml: String, route: String,
        answer: (LabelStudioCompletedTask, D, [Record]) throws -> Answer?
    ) throws -> HumanAnswers<Answer> {
        let sent = Dictionary(tasks.map { ($0.data.promptID, $0.data) }, uniquingKeysWith: { a, _ in a })
        var answers = HumanAnswers<Answer>()
        var seen = Set<String>()
        for task in try LabelStudioExport.read(export.path, config: try LabelingConfig(xml: xml, file: tasksFile.path)) {
            let data = try match(task, sent: sent, export: export, tasksFile: tasksFile, route: route, seen: &seen)
            if let a = try answer(task, data, try usable(task, export: export)) { answers.byPrompt[data.promptID] = a } else { answers.skipped += 1 }
        }
        return answers
    }

    /// The sent task an exported task answers: `data.prompt_id` must name one, not yet answered, with
    /// the same prompt text.
    private static func match<D>(_ task: LabelStudioCompletedTask, sent: [String: D], export: URL, tasksFile: URL, route: String,
                                 seen: inout Set<String>) throws -> D where D: HumanTaskData {
        guard let id = task.data["prompt_id"]?.stringValue else {
            throw error(export, task, "data.prompt_id", "missing: every task sent out names its prompt in data.prompt_id")
        }
        guard let data = sent[id] else {
            throw error(export, task, "data.prompt_id", "'\(id)' is not a prompt sent for human \(route) (\(tasksFile.path) lists \(sent.count))")
        }
        guard seen.insert(id).inserted else { throw error(export, task, "data.prompt_id", "prompt '\(id)' is answered twice in the export") }
        guard task.data["prompt"]?.stringValue == data.prompt else {
            throw error(export, task, "data.prompt", "the prompt text differs from the one sent for prompt \(id) in \(tasksFile.path)")
        }
        return data
    }

    /// The task's records, after refusing any problem other than a cancelled or empty annotation.
    private static func usable(_ task: LabelStudioCompletedTask, export: URL) throws -> [Record] {
        if let problem = task.problems.first(where: { !skippable.contains($0.reason) }) {
            throw error(export, task, problem.field ?? "annotations", problem.detail)
        }
        return task.records
    }

    private static func error(_ export: URL, _ task: LabelStudioCompletedTask, _ field: String, _ reason: String) -> InputError {
        InputError(file: export.path, field: "[\(task.index)].\(field)", reason: "task \(task.index): \(reason)")
    }
}

/// What every human task's data carries.
protocol HumanTaskData: Codable, Equatable, Sendable {
    var promptID: String { get }
    var prompt: String { get }
}

extension HumanRankData: HumanTaskData {}
extension HumanEditData: HumanTaskData {}
