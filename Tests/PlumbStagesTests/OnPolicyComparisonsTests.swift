// A month's on-policy preference data through the CLI, as a monthly pipeline runs it: `plumb task
// month` (the same bytes twice, other prompts another month), the month's annotation prompts
// imported, a policy's k samples per prompt all routed to human ranking (`plumb rs
// --human-rank-share 1`), the task's simulated annotators comparing pairs of them (`plumb task
// annotate --as comparisons`), and `plumb import` reading the result as comparisons of both
// dimensions with strength and safety labels, the counts adding up (read = accepted + quarantined
// + duplicates + ties) with a re-delivered copy of the file as exact duplicates.
import Foundation
import PlumbData
import PlumbEval
import PlumbOracle
@testable import PlumbStages
import PlumbStore
import PlumbTask
import XCTest

final class OnPolicyComparisonsTests: XCTestCase {
    func month(_ f: StageFixtures.Fixture, _ n: Int, _ name: String) throws -> URL {
        let out = f.root.appendingPathComponent("months/\(name)")
        try? FileManager.default.removeItem(at: out)
        try StageFixtures.plumb(["task", "month", "--task", f.task.path, "--month", "\(n)", "--rs-prompts", "10", "--ppo-prompts", "10",
                                 "--annotate-prompts", "80", "--out", out.path])
        return out
    }

    func testTaskMonthThroughTheCLIIsDeterministic() throws {
        let f = try StageFixtures.fixture()
        let a = try month(f, 2, "m2-a"), b = try month(f, 2, "m2-b"), c = try month(f, 3, "m3")
        for name in [MonthFiles.rejectionSamplingPrompts, MonthFiles.ppoPrompts, MonthFiles.annotatePrompts, MonthFiles.manifest, TaskFiles.manifest] {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: b.appendingPathComponent(name)), name)
        }
        for name in [MonthFiles.rejectionSamplingPrompts, MonthFiles.ppoPrompts, MonthFiles.annotatePrompts] {
            XCTAssertNotEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: c.appendingPathComponent(name)), name)
        }
        let manifest = try JSONDecoder().decode(MonthManifest.self, from: Data(contentsOf: a.appendingPathComponent(MonthFiles.manifest)))
        XCTAssertEqual(manifest.sourceTask.sha256, try SHA256.hex(ofFile: f.task.appendingPathComponent(TaskFiles.manifest)))
        XCTAssertEqual(manifest.records[MonthFiles.annotatePrompts], 80)
        XCTAssertThrowsError(try StageFixtures.plumb(["task", "month", "--task", f.task.path, "--month", "1", "--out", a.path + "-one"]))
    }

    func testAnnotatedOnPolicySamplesImportWithBothDimensions() throws {
        let f = try StageFixtures.fixture()
        let i = try RejectionSamplingTests.makeInputs(stopping: true)
        let m2 = try month(f, 2, "m2-annotate")
        let runs = f.root.appendingPathComponent("months/runs/m2")
        try? FileManager.default.removeItem(at: runs)
        let prompts = runs.appendingPathComponent("import-annotate-prompts"), rs = runs.appendingPathComponent("rs-annotate")
        try StageFixtures.plumb(["import", m2.appendingPathComponent(MonthFiles.annotatePrompts).path, "--out", prompts.path,
                                 "--validation-fraction", "0", "--test-fraction", "0"])
        try StageFixtures.plumb(["rs", "--tokenizer", i.tokenizer.path, "--policy", i.policy.path, "--helpfulness", i.helpfulness.path,
                                 "--safety", i.safety.path, "--prompts", prompts.path, "--k", "4", "--temperature", "1",
                                 "--max-new-tokens", "12", "--max-sequences", "8", "--gate-threshold", "0.5",
                                 "--human-rank-share", "1", "--out", rs.path])
        let tasks = try HumanTasks.read(HumanRankData.self, from: rs.appendingPathComponent(HumanTasks.rankFile))
        XCTAssertGreaterThan(tasks.count, 10, "enough prompts with two distinct finished samples")

        let annotatedStage = runs.appendingPathComponent("m2-comparisons")
        try StageFixtures.plumb(["task", "annotate", "--task", m2.path, "--tasks", rs.appendingPathComponent(HumanTasks.rankFile).path,
                                 "--as", "comparisons", "--pairs-per-task", "2", "--out", annotatedStage.path, "--seed", "5"])
        let annotated = annotatedStage.appendingPathComponent(TaskAnnotateComparisonsStage.mainFile!)
        let lines = try String(contentsOf: annotated, encoding: .utf8).split(separator: "\n")
        let written = try lines.map { try JSONDecoder().decode(ComparisonRecord.self, from: Data($0.utf8)) }
        XCTAssertEqual(written.count, tasks.reduce(0) { $0 + min(2, $1.data.items.count * ($1.data.items.count - 1) / 2) })
        XCTAssertTrue(written.allSatisfy { $0.promptId?.hasPrefix("m2-ann-") == true && $0.chosen != $0.rejected })
        XCTAssertThrowsError(try StageFixtures.plumb(["task", "annotate", "--task", m2.path, "--tasks",
                                                      rs.appendingPathComponent(HumanTasks.editFile).path, "--as", "comparisons",
                                                      "--out", annotatedStage.path + "-edits"]), "an edit file has no samples to compare")

        // The same export delivered twice: the second copy is all exact duplicates.
        let again = runs.appendingPathComponent("m2-comparisons-again.jsonl")
        try FileManager.default.copyItem(at: annotated, to: again)
        let imported = runs.appendingPathComponent("import-m2-comparisons")
        try StageFixtures.plumb(["import", annotated.path, again.path, "--validation-fraction", "0.3", "--test-fraction", "0", "--out", imported.path])
        let m = try StageManifest.read(from: imported).metrics
        let read = try XCTUnwrap(m["records_read"]), accepted = try XCTUnwrap(m["accepted"])
        XCTAssertEqual(read, Double(2 * written.count))
        XCTAssertEqual(read, accepted + m["quarantined"]! + m["duplicates_exact"]! + m["duplicates_near"]! + m["ties"]!)
        XCTAssertGreaterThanOrEqual(m["duplicates_exact"]!, Double(written.count))
        XCTAssertGreaterThan(accepted, 10)

        let train = try StageRecordReader.read(Comparison.self, output: "comparisons-train", from: [imported]).records
        let validation = try StageRecordReader.read(Comparison.self, output: "comparisons-validation", from: [imported]).records
        XCTAssertFalse(validation.isEmpty, "a validation split")
        XCTAssertEqual(Double(train.count + validation.count), accepted)
        let all = train + validation
        XCTAssertEqual(Set(all.map(\.dimension)), [.helpfulness, .safety], "both dimensions")
        for c in all {
            XCTAssertEqual(c.dimension == .safety, c.prompt.tags.contains("safety"), c.id)
            XCTAssertNotNil(c.chosenSafe, c.id)
            XCTAssertNotNil(c.rejectedSafe, c.id)
            XCTAssertNotNil(c.annotator, c.id)
            guard case .level = c.strength else { return XCTFail("\(c.id): no strength level") }
            XCTAssertTrue(c.prompt.id.hasPrefix("m2-ann-"), c.prompt.id)
        }
    }
}
