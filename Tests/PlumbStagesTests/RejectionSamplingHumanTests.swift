// Humans in the loop: routing by (seed, prompt id) with the stated shares; the rs stage's task files
// against an independent reading of its samples and best; completed Label Studio exports folded back
// (a ranking changes the best and the pair, an edit becomes the gold demonstration, a cancelled task
// keeps the reward models' choice, the routes add up); mismatched exports refused with the file and
// field named and no stage left; the task's simulated annotators completing the files end to end.
import Foundation
import PlumbData
import PlumbEval
import PlumbOracle
@testable import PlumbStages
import PlumbStore
import PlumbTask
import XCTest

final class RejectionSamplingHumanTests: XCTestCase {
    // MARK: routing

    /// 40,000 prompt ids at 5% / 5%: each share within 4 binomial standard errors (0.0044), the same
    /// route in any order, and a different seed routes differently.
    func testRoutingIsSeededOrderFreeAndKeepsTheShares() {
        let ids = (0..<40_000).map { "p-\($0 * 7919)" }
        func routes(_ ids: [String], seed: UInt64) -> [String: HumanRoute] {
            Dictionary(uniqueKeysWithValues: ids.map { ($0, HumanRoute.of(promptID: $0, seed: seed, rankShare: 0.05, editShare: 0.05)) })
        }
        let a = routes(ids, seed: 1)
        XCTAssertEqual(a, routes(ids.reversed(), seed: 1), "a prompt's route does not depend on the order")
        let tolerance = 4 * (0.05 * 0.95 / 40_000).squareRoot()
        for route in [HumanRoute.humanRank, .humanEdit] {
            let share = Double(a.values.filter { $0 == route }.count) / 40_000
            XCTAssertEqual(share, 0.05, accuracy: tolerance, "\(route)")
        }
        let b = routes(ids, seed: 2)
        XCTAssertGreaterThan(ids.filter { a[$0] != b[$0] }.count, 5_000, "another seed, other routes")
        XCTAssertTrue(ids.allSatisfy { HumanRoute.of(promptID: $0, seed: 1, rankShare: 0, editShare: 0) == .rewardModel })
        XCTAssertTrue(ids.allSatisfy { HumanRoute.of(promptID: $0, seed: 1, rankShare: 1, editShare: 0) == .humanRank })
    }

    // MARK: the rs stage's task files

    struct Staged {
        let inputs: RejectionSamplingTests.Inputs
        let rs: URL
        let rank: [HumanTask<HumanRankData>]
        let edit: [HumanTask<HumanEditData>]
        let best: [Demonstration]
        let pairs: [Comparison]
    }

    /// The rs tests' settings on 30 prompts, 35% of them to ranking and 30% to editing.
    static func runRS(_ i: RejectionSamplingTests.Inputs, perShard: Int, stage: String) throws -> URL {
        var p = RejectionSamplingTests.parameters(perShard: perShard)
        (p.limit, p.humanRankShare, p.humanEditShare) = (30, 0.35, 0.3)
        return try RejectionSamplingTests.run(i, p, run: "h", stage: stage)
    }

    /// One rs stage (30 prompts, k = 4, shares 0.35 / 0.3) from a policy that often stops, per process.
    static let shared: Result<Staged, Error> = Result {
        let i = try RejectionSamplingTests.makeInputs(stopping: true)
        let rs = i.runs.appendingPathComponent("h/rs")
        if (try? StageManifest.read(from: rs))?.status != .complete { _ = try runRS(i, perShard: 7, stage: "rs") }
        return Staged(inputs: i, rs: rs,
                      rank: try HumanTasks.read(HumanRankData.self, from: rs.appendingPathComponent(HumanTasks.rankFile)),
                      edit: try HumanTasks.read(HumanEditData.self, from: rs.appendingPathComponent(HumanTasks.editFile)),
                      best: try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: [rs]).records,
                      pairs: try StageRecordReader.read(Comparison.self, output: "comparisons-train", from: [rs]).records)
    }

    func testTaskFilesHoldTheRoutedPromptsAsLabelStudioTasks() throws {
        let s = try Self.shared.get()
        XCTAssertGreaterThan(s.rank.count, 2, "enough ranking tasks to test with")
        XCTAssertGreaterThan(s.edit.count, 2, "enough edit tasks to test with")
        let metrics = try StageManifest.read(from: s.rs).metrics
        XCTAssertEqual(HumanRoute.allCases.map { metrics["routed.\($0.rawValue)"]! }.reduce(0, +), 30)
        XCTAssertEqual(metrics["human_rank_tasks"], Double(s.rank.count))

        // Independently: every rank-routed prompt with two or more distinct, finished, non-empty samples has a task
        // listing exactly those samples; every edit-routed prompt with a best shows that best.
        let samples = try StageRecordReader.read(RejectionSample.self, output: "samples", from: [s.rs]).records
        let prompts = samples.map(\.promptID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        var expectRank: [HumanRankData] = [], expectEdit: [String] = []
        for id in prompts {
            let group = samples.filter { $0.promptID == id }
            switch HumanRoute.of(promptID: id, seed: 1, rankShare: 0.35, editShare: 0.3) {
            case .humanRank:
                var seen = Set<String>()
                let items = group.filter { $0.stop == "eos" && !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && seen.insert($0.text).inserted }.map { HumanRankData.Item(id: "s\($0.sample)", body: $0.text) }
                if items.count >= 2 {
                    expectRank.append(HumanRankData(promptID: id, prompt: group[0].prompt.messages[0].content, items: items, tags: group[0].prompt.tags))
                }
            case .humanEdit:
                if let d = s.best.first(where: { $0.prompt.id == id }) { expectEdit.append(d.response) }
            case .rewardModel: break
            }
        }
        XCTAssertEqual(s.rank.map(\.data), expectRank)
        XCTAssertEqual(s.edit.map(\.data.response), expectEdit)

        // The configs bind the results the way Label Studio does, and the importer reads a completed
        // ranking file as rankings of the listed responses.
        let rankConfig = try LabelingConfig(xml: String(contentsOf: s.rs.appendingPathComponent(HumanTasks.rankConfigFile), encoding: .utf8), file: "rank")
        XCTAssertEqual(rankConfig.rankers["rank"]?.list, "samples")
        XCTAssertEqual(rankConfig.objects["samples"], "items")
        let editConfig = try LabelingConfig(xml: String(contentsOf: s.rs.appendingPathComponent(HumanTasks.editConfigFile), encoding: .utf8), file: "edit")
        XCTAssertEqual(editConfig.objects[editConfig.textAreas["corrected"] ?? ""], "response")
        let export = try write(Self.rankExport(s.rank) { $0.items.map(\.id) }, "import-check.json")
        var options = ImportOptions()
        options.labelConfig = HumanTasks.rankConfig
        let imported = try Importer(options: options).importFiles([export.path], format: .labelStudio)
        XCTAssertEqual(imported.records(.ranking).count, s.rank.count)
        XCTAssertEqual(imported.records(.ranking).first?.responses, s.rank[0].data.items.map(\.body))
    }

    /// The task files do not depend on the chunking (30 prompts in one chunk or five).
    func testTaskFilesDoNotDependOnTheChunking() throws {
        let s = try Self.shared.get()
        let other = try Self.runRS(s.inputs, perShard: 30, stage: "rs-one-chunk")
        for file in [HumanTasks.rankFile, HumanTasks.editFile] {
            XCTAssertEqual(try Data(contentsOf: other.appendingPathComponent(file)), try Data(contentsOf: s.rs.appendingPathComponent(file)), file)
        }
    }

    // MARK: folding back

    func testHumanRankingReplacesTheBestAndThePair() throws {
        let s = try Self.shared.get()
        // The human puts last the response the reward models chose, first another one.
        let rmBest = Dictionary(uniqueKeysWithValues: s.best.map { ($0.prompt.id, $0.response) })
        let export = try write(Self.rankExport(s.rank) { d in
            let (top, rest) = (d.items.filter { $0.body != rmBest[d.promptID] }, d.items.filter { $0.body == rmBest[d.promptID] })
            return (top + rest).map(\.id)
        }, "rankings.json")
        let (out, summary) = try merge(s, rankings: export, edits: nil, stage: "merged-rank")
        let best = try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: [out]).records
        let pairs = try StageRecordReader.read(Comparison.self, output: "comparisons-train", from: [out]).records
        XCTAssertEqual(best.count, s.best.count)
        for task in s.rank {
            let d = task.data
            let demo = try XCTUnwrap(best.first { $0.prompt.id == d.promptID })
            let expectTop = d.items.first { $0.body != rmBest[d.promptID] }!.body
            XCTAssertEqual(demo.response, expectTop, "the human's top is the best")
            XCTAssertNotEqual(demo.response, rmBest[d.promptID])
            XCTAssertEqual(demo.annotator, "label-studio:7")
            let pair = try XCTUnwrap(pairs.first { $0.prompt.id == d.promptID })
            XCTAssertEqual(pair.chosen, expectTop)
            XCTAssertEqual(pair.rejected, rmBest[d.promptID], "the RM's choice ranked last")
            XCTAssertEqual(pair.strength, .level(preferenceLevel(rankGap: d.items.count - 1)!))
        }
        let ranked = Set(s.rank.map(\.data.promptID))
        XCTAssertEqual(best.filter { !ranked.contains($0.prompt.id) }, s.best.filter { !ranked.contains($0.prompt.id) }, "other prompts keep the RM's best")
        XCTAssertEqual(summary.humanRank, s.rank.count)
        XCTAssertEqual(summary.rankChangedBest, s.rank.count)
        XCTAssertEqual(summary.humanEdit, 0)
        XCTAssertEqual(summary.skipped, s.edit.count, "no edit export: every edit task is skipped")
        try assertRoutesAddUp(out)
    }

    func testHumanEditBecomesTheGoldDemonstrationAndCancelledTasksAreSkipped() throws {
        let s = try Self.shared.get()
        let export = try write(Self.editExport(s.edit, cancel: [1]) { "The answer is \($0)." }, "edits.json")
        let (out, summary) = try merge(s, rankings: nil, edits: export, stage: "merged-edit")
        let best = try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: [out]).records
        let pairs = try StageRecordReader.read(Comparison.self, output: "comparisons-train", from: [out]).records
        for (i, task) in s.edit.enumerated() {
            let demo = try XCTUnwrap(best.first { $0.prompt.id == task.data.promptID })
            if i == 1 {
                XCTAssertEqual(demo, s.best.first { $0.prompt.id == task.data.promptID }, "a cancelled task keeps the RM's best")
                continue
            }
            XCTAssertEqual(demo.response, "The answer is \(i).")
            XCTAssertEqual(demo.origin, .edit)
            let pair = try XCTUnwrap(pairs.first { $0.prompt.id == task.data.promptID })
            XCTAssertEqual([pair.chosen, pair.rejected], ["The answer is \(i).", task.data.response])
        }
        XCTAssertEqual(summary.humanEdit, s.edit.count - 1)
        XCTAssertEqual(summary.skipped, 1 + s.rank.count)
        try assertRoutesAddUp(out)
    }

    func testMismatchedExportsAreRefusedWithFileAndFieldAndLeaveNoStage() throws {
        let s = try Self.shared.get()
        func refused(_ rows: [[String: Any]], asEdits: Bool = false, _ expect: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let export = try write(rows, "bad.json")
            let stage = "merged-bad"
            XCTAssertThrowsError(try merge(s, rankings: asEdits ? nil : export, edits: asEdits ? export : nil, stage: stage), file: file, line: line) { error in
                for part in [export.path] + expect {
                    XCTAssertTrue("\(error)".contains(part), "'\(error)' should name \(part)", file: file, line: line)
                }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: s.inputs.runs.appendingPathComponent("h/\(stage)").path), "no stage left", file: file, line: line)
        }
        var rows = Self.rankExport(s.rank) { $0.items.map(\.id) }
        var data = rows[2]["data"] as! [String: Any]
        data["prompt_id"] = "p-not-routed"
        rows[2]["data"] = data
        try refused(rows, ["[2].data.prompt_id", "p-not-routed"])
        try refused(Self.rankExport(s.rank) { $0.items.map(\.id) }, asEdits: true, ["[0].data.prompt_id", "not a prompt sent for human editing"])
        try refused(Self.rankExport(s.rank) { _ in ["s99"] }, ["[0].annotations[0].result[0].value.ranker", "s99"])
        let twice = Self.rankExport(s.rank) { $0.items.map(\.id) }
        try refused(twice + [twice[0]], ["[\(twice.count)].data.prompt_id", "twice"])

        // A task file changed after the rs stage wrote it no longer matches the stage's artifact.
        let copy = try Self.copyRS(s, to: "rs-altered")
        let tasks = copy.appendingPathComponent(HumanTasks.editFile)
        try Data(String(decoding: try Data(contentsOf: tasks), as: UTF8.self).replacingOccurrences(of: "prompt_id", with: "prompt_id ").utf8).write(to: tasks)
        XCTAssertThrowsError(try StageRun.run(HumanFeedbackStage.self, NoParameters(), inputs: StageInputs(["rs": [copy]]),
                                                        location: StageLocation(runsRoot: s.inputs.runs, run: "h", stage: "merged-altered"))) {
            XCTAssertTrue("\($0)".contains("is not the task file"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.inputs.runs.appendingPathComponent("h/merged-altered").path))
    }

    /// The task's simulated annotators complete both files through the CLI, and `plumb rs-merge` folds
    /// them in: every task answered, and every edit is a response the oracle finds ideal.
    func testSimulatedAnnotatorsCompleteTheTasks() throws {
        let s = try Self.shared.get()
        let f = try StageFixtures.fixture()
        let dir = s.inputs.runs.appendingPathComponent("h")
        var exports: [String: URL] = [:]
        for (file, export) in [(HumanTasks.rankFile, "annotated-rank"), (HumanTasks.editFile, "annotated-edit")] {
            try StageFixtures.plumb(["task", "annotate", "--task", f.task.path, "--tasks", s.rs.appendingPathComponent(file).path,
                                     "--out", dir.appendingPathComponent(export).path, "--seed", "5"])
            exports[export] = dir.appendingPathComponent(export).appendingPathComponent(TaskAnnotateStage.mainFile!)
        }
        let out = dir.appendingPathComponent("merged-annotated")
        try? FileManager.default.removeItem(at: out)
        try StageFixtures.plumb(["rs-merge", "--rs", s.rs.path, "--rankings", exports["annotated-rank"]!.path,
                                 "--edits", exports["annotated-edit"]!.path, "--out", out.path])
        let m = try StageManifest.read(from: out).metrics
        XCTAssertEqual(m["route.human_rank"], Double(s.rank.count))
        XCTAssertEqual(m["route.human_edit"], Double(s.edit.count))
        XCTAssertEqual(m["human_skipped"], 0)
        try assertRoutesAddUp(out)
        let edited = try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: [out]).records.filter { $0.origin == .edit }
        XCTAssertEqual(edited.count, s.edit.count)
        for d in edited {
            let verdict = try OracleJudge.judge(prompt: d.prompt.messages[0].content, response: d.response)
            XCTAssertTrue(verdict.kind == .harmful ? verdict.quality.refused : verdict.helpful, "\(d.response)")
        }
    }

    // MARK: helpers

    func merge(_ s: Staged, rankings: URL?, edits: URL?, stage: String) throws -> (URL, HumanFeedbackStage.Summary) {
        let out = s.inputs.runs.appendingPathComponent("h/\(stage)")
        try? FileManager.default.removeItem(at: out)
        let inputs = StageInputs(["rs": [s.rs], "rankings": rankings.map { [$0] } ?? [], "edits": edits.map { [$0] } ?? []])
        let summary = try StageRun.run(HumanFeedbackStage.self, NoParameters(), inputs: inputs,
                                       location: StageLocation(runsRoot: s.inputs.runs, run: "h", stage: stage))
        return (out, summary)
    }

    /// A copy of the rs stage directory (hard links are not enough: the copy's task file is edited).
    static func copyRS(_ s: Staged, to name: String) throws -> URL {
        let copy = s.inputs.runs.appendingPathComponent("h/\(name)")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: s.rs, to: copy)
        return copy
    }

    func assertRoutesAddUp(_ stage: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let m = try StageManifest.read(from: stage).metrics
        XCTAssertEqual(m["prompts"], 30, file: file, line: line)
        XCTAssertEqual(m["route.reward_model"]! + m["route.human_rank"]! + m["route.human_edit"]!, m["prompts"], file: file, line: line)
    }

    func write(_ rows: [[String: Any]], _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-human-\(getpid())-\(name)")
        try JSONSerialization.data(withJSONObject: rows).write(to: url)
        return url
    }

    static func object<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]
    }

    /// A Label Studio export of the ranking tasks, ranked by `order` (item ids best first).
    static func rankExport(_ tasks: [HumanTask<HumanRankData>], order: (HumanRankData) -> [String]) -> [[String: Any]] {
        tasks.enumerated().map { i, t in
            let result: [String: Any] = ["type": "ranker", "from_name": "rank", "to_name": "samples", "value": ["ranker": order(t.data)]]
            return ["id": 100 + i, "data": try! object(t.data),
                    "annotations": [["id": i, "completed_by": 7, "result": [result], "was_cancelled": false]]]
        }
    }

    /// A Label Studio export of the edit tasks, task i's text `text(i)`; tasks in `cancel` cancelled.
    static func editExport(_ tasks: [HumanTask<HumanEditData>], cancel: Set<Int>, text: (Int) -> String) -> [[String: Any]] {
        tasks.enumerated().map { i, t in
            let result: [String: Any] = ["type": "textarea", "from_name": "corrected", "to_name": "response", "value": ["text": [text(i)]]]
            return ["id": 100 + i, "data": try! object(t.data),
                    "annotations": [["id": i, "completed_by": 8, "result": cancel.contains(i) ? [] : [result], "was_cancelled": cancel.contains(i)]]]
        }
    }
}
