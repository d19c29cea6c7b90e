// `plumb rs-merge`: folds the completed human tasks of an rs stage back in (TigerBot's 90/5/5). For a
// prompt a human ranked, the best is the human's top sample and the pair the human's top against
// bottom; for a prompt a human edited, the edit is the gold demonstration (origin `edit`) and the pair
// the edit against the response shown. Every other prompt keeps the reward models' best and pair.
// Outputs, as record shards: `demonstrations-train` and `comparisons-train` (read by `plumb sft`,
// `plumb rm train`, DPO and `plumb rs --previous` as an rs stage's are). Metrics count each route:
// prompts = route.reward_model + route.human_rank + route.human_edit.
//
// The task files are checked against the rs stage's manifest artifacts, and the exports against the
// task files, before the stage directory is written: an export whose tasks do not match the tasks
// the rs stage sent out leaves no stage behind.
import Foundation
import PlumbData
import PlumbStore

extension StageKind {
    public static let rsMerge: StageKind = "rs-merge"
}

public enum HumanFeedbackStage: Stage {
    public typealias Parameters = NoParameters
    public static let kind = StageKind.rsMerge
    public static let abstract = "Fold completed human rankings and edits (Label Studio exports) into an rs stage's best samples and pairs."
    public static let slots = [
        InputSlot("rs", .one, "The completed rs stage that wrote the task files."),
        InputSlot("rankings", .optional, "Completed Label Studio export of its human-rank-tasks.json."),
        InputSlot("edits", .optional, "Completed Label Studio export of its human-edit-tasks.json."),
    ]

    public struct Summary: StageSummary, Equatable {
        public var prompts = 0
        public var rewardModel = 0
        public var humanRank = 0
        public var humanEdit = 0
        public var rankTasks = 0
        public var editTasks = 0
        /// Tasks with no usable annotation, or not in the export: the reward models' choice stays.
        public var skipped = 0
        /// Ranked prompts whose human top differs from the reward models' best.
        public var rankChangedBest = 0
        /// Edits that left the response as it was.
        public var editUnchanged = 0
        public var demonstrations = 0
        public var pairs = 0

        public var metrics: [String: Double] {
            var out: [String: Double] = [:]
            for (name, value) in [("prompts", prompts), ("route.reward_model", rewardModel),
                                  ("route.human_rank", humanRank), ("route.human_edit", humanEdit),
                                  ("human_rank_tasks", rankTasks), ("human_edit_tasks", editTasks),
                                  ("human_skipped", skipped), ("human_rank_changed_best", rankChangedBest),
                                  ("human_edit_unchanged", editUnchanged), ("demonstrations", demonstrations),
                                  ("pairs", pairs)] {
                out[name] = Double(value)
            }
            return out
        }
    }

    public struct Loaded {
        var summary: Summary
        var best: [Demonstration], pairs: [Comparison]
        var ranked: HumanAnswers<HumanRanking>, edited: HumanAnswers<HumanCorrection>
        var rankings: URL?, edits: URL?
    }

    public static func prepare(_ parameters: NoParameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let rs = try inputs.one("rs"), rankings = inputs.optional("rankings"), edits = inputs.optional("edits")
        let manifest = try StageManifest.read(from: rs)
        guard manifest.kind == StageKind.rs.name, manifest.status == .complete else {
            throw StageError("rs-merge: \(rs.path) is not a complete rs stage (kind \(manifest.kind), \(manifest.status.rawValue))")
        }
        let rankFile = rs.appendingPathComponent(HumanTasks.rankFile)
        let editFile = rs.appendingPathComponent(HumanTasks.editFile)
        for file in [rankFile, editFile] {
            let sha = try SHA256.hex(ofFile: file)
            guard manifest.artifacts.contains(where: { $0.name == file.lastPathComponent && $0.rawSHA256 == sha }) else {
                throw StageError("rs-merge: \(file.path) is not the task file \(rs.path) wrote (its manifest has no artifact of that name with SHA-256 \(sha))")
            }
        }
        let rankTasks = try HumanTasks.read(HumanRankData.self, from: rankFile)
        let editTasks = try HumanTasks.read(HumanEditData.self, from: editFile)
        let ranked = try rankings.map { try HumanAnswerReader.rankings($0, tasks: rankTasks, tasksFile: rankFile) } ?? HumanAnswers()
        let edited = try edits.map { try HumanAnswerReader.edits($0, tasks: editTasks, tasksFile: editFile) } ?? HumanAnswers()
        let best = try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: [rs])
        let pairs = try StageRecordReader.read(Comparison.self, output: "comparisons-train", from: [rs])

        var summary = Summary()
        summary.prompts = Int(manifest.metrics["prompts"] ?? 0)
        summary.rankTasks = rankTasks.count
        summary.editTasks = editTasks.count
        summary.skipped = rankTasks.count - ranked.byPrompt.count + editTasks.count - edited.byPrompt.count

        return Prepared(Loaded(summary: summary, best: best.records, pairs: pairs.records, ranked: ranked, edited: edited,
                               rankings: rankings, edits: edits),
                        files: best.files + pairs.files + [rankFile, editFile] + [rankings, edits].compactMap { $0 })
    }

    public static func execute(_ loaded: Loaded, parameters: NoParameters, stage context: StageContext) throws -> Summary {
        let stage = context.writer, ranked = loaded.ranked, edited = loaded.edited
        var summary = loaded.summary
        let rankings = loaded.rankings, edits = loaded.edits
        let demos = try stage.shardWriter(name: "demonstrations-train")
        let comparisons = try stage.shardWriter(name: "comparisons-train")
        let rsPairs = Dictionary(loaded.pairs.map { ($0.prompt.id, $0) }, uniquingKeysWith: { a, _ in a })
        for demo in loaded.best {
            let id = demo.prompt.id
            var chosen = demo, pair = rsPairs[id]
            if let r = ranked.byPrompt[id] {
                summary.humanRank += 1
                summary.rankChangedBest += r.best == demo.response ? 0 : 1
                let source = SourceRef(file: "human-rank/" + rankings!.lastPathComponent, line: r.task + 1)
                chosen = Demonstration(id: demo.id, prompt: demo.prompt, response: r.best, origin: .rejectionSampling,
                                       annotator: r.annotator, source: source, round: demo.round)
                pair = preferenceLevel(rankGap: r.rankGap).flatMap { level in
                    r.best == r.worst ? nil : Comparison(
                        id: "\(demo.id):human-rank", prompt: demo.prompt, chosen: r.best, rejected: r.worst,
                        dimension: pair?.dimension ?? (SampleRanking.isSafetyPrompt(demo.prompt) ? .safety : .helpfulness),
                        strength: .level(level), annotator: r.annotator, source: source)
                }
            } else if let e = edited.byPrompt[id] {
                summary.humanEdit += 1
                summary.editUnchanged += e.edited == e.original ? 1 : 0
                let edit = Edit(id: "\(demo.id):human-edit", prompt: demo.prompt, original: e.original, edited: e.edited,
                                annotator: e.annotator, source: SourceRef(file: "human-edit/" + edits!.lastPathComponent, line: e.task + 1))
                let derived = DerivedRecords.records(of: edit)
                chosen = derived.0
                pair = e.edited == e.original ? nil : derived.1
            }
            try demos.append(chosen)
            summary.demonstrations += 1
            if let pair {
                try comparisons.append(pair)
                summary.pairs += 1
            }
        }
        try stage.addOutput(name: "demonstrations-train", files: try demos.finish())
        try stage.addOutput(name: "comparisons-train", files: try comparisons.finish())
        summary.rewardModel = summary.prompts - summary.humanRank - summary.humanEdit
        context.log("rs-merge: \(summary.humanRank) ranked and \(summary.humanEdit) edited of \(summary.prompts) prompts; \(summary.skipped) tasks skipped")
        return summary
    }
}
