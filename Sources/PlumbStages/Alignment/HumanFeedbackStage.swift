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

public enum HumanFeedbackStage {
    public struct Inputs: Sendable {
        /// The completed rs stage that wrote the task files.
        public var rs: URL
        /// Completed Label Studio exports of its `human-rank-tasks.json` / `human-edit-tasks.json`; a
        /// missing export leaves those prompts with the reward models' choice (counted as skipped).
        public var rankings: URL?
        public var edits: URL?
        public init(rs: URL, rankings: URL?, edits: URL?) {
            self.rs = rs; self.rankings = rankings; self.edits = edits
        }
    }

    public struct Summary: Codable, Equatable, Sendable {
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
    }

    struct ResolvedConfig: Encodable {
        var rs: String
        var rankings: String?
        var edits: String?
    }

    public static func run(inputs: Inputs, location: StageLocation, log: (String) -> Void = { _ in }) throws -> Summary {
        let manifest = try StageManifest.read(from: inputs.rs)
        guard manifest.kind == "rs", manifest.status == .complete else {
            throw StageError("rs-merge: \(inputs.rs.path) is not a complete rs stage (kind \(manifest.kind), \(manifest.status.rawValue))")
        }
        let rankFile = inputs.rs.appendingPathComponent(HumanTasks.rankFile)
        let editFile = inputs.rs.appendingPathComponent(HumanTasks.editFile)
        for file in [rankFile, editFile] {
            let sha = try SHA256.hex(ofFile: file)
            guard manifest.artifacts.contains(where: { $0.name == file.lastPathComponent && $0.rawSHA256 == sha }) else {
                throw StageError("rs-merge: \(file.path) is not the task file \(inputs.rs.path) wrote (its manifest has no artifact of that name with SHA-256 \(sha))")
            }
        }
        let rankTasks = try HumanTasks.read(HumanRankData.self, from: rankFile)
        let editTasks = try HumanTasks.read(HumanEditData.self, from: editFile)
        let ranked = try inputs.rankings.map { try HumanAnswerReader.rankings($0, tasks: rankTasks, tasksFile: rankFile) } ?? HumanAnswers()
        let edited = try inputs.edits.map { try HumanAnswerReader.edits($0, tasks: editTasks, tasksFile: editFile) } ?? HumanAnswers()
        let best = try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: [inputs.rs])
        let pairs = try StageRecordReader.read(Comparison.self, output: "comparisons-train", from: [inputs.rs])

        var summary = Summary()
        summary.prompts = Int(manifest.metrics["prompts"] ?? 0)
        summary.rankTasks = rankTasks.count
        summary.editTasks = editTasks.count
        summary.skipped = rankTasks.count - ranked.byPrompt.count + editTasks.count - edited.byPrompt.count

        let stage = try StageWriter.begin(
            runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: "rs-merge",
            config: ResolvedConfig(rs: inputs.rs.path, rankings: inputs.rankings?.path, edits: inputs.edits?.path),
            inputs: best.files + pairs.files + [rankFile, editFile] + [inputs.rankings, inputs.edits].compactMap { $0 })
        return try stage.finish {
            let demos = try stage.shardWriter(name: "demonstrations-train")
            let comparisons = try stage.shardWriter(name: "comparisons-train")
            let rsPairs = Dictionary(pairs.records.map { ($0.prompt.id, $0) }, uniquingKeysWith: { a, _ in a })
            for demo in best.records {
                let id = demo.prompt.id
                var chosen = demo, pair = rsPairs[id]
                if let r = ranked.byPrompt[id] {
                    summary.humanRank += 1
                    summary.rankChangedBest += r.best == demo.response ? 0 : 1
                    let source = SourceRef(file: "human-rank/" + inputs.rankings!.lastPathComponent, line: r.task + 1)
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
                                    annotator: e.annotator, source: SourceRef(file: "human-edit/" + inputs.edits!.lastPathComponent, line: e.task + 1))
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
            for (name, value) in [("prompts", summary.prompts), ("route.reward_model", summary.rewardModel),
                                  ("route.human_rank", summary.humanRank), ("route.human_edit", summary.humanEdit),
                                  ("human_rank_tasks", summary.rankTasks), ("human_edit_tasks", summary.editTasks),
                                  ("human_skipped", summary.skipped), ("human_rank_changed_best", summary.rankChangedBest),
                                  ("human_edit_unchanged", summary.editUnchanged), ("demonstrations", summary.demonstrations),
                                  ("pairs", summary.pairs)] {
                stage.setMetric(name, Double(value))
            }
            log("rs-merge: \(summary.humanRank) ranked and \(summary.humanEdit) edited of \(summary.prompts) prompts; \(summary.skipped) tasks skipped")
            return summary
        }
    }
}
