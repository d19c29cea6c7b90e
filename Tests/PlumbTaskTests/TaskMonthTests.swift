// Months of iterative runs (`plumb task month`): the same task, month and seed give the same bytes;
// another month gives other prompts; ids carry the month and never meet month 1's or the evaluation
// prompts'; no month prompt is held out or equal to an evaluation prompt, and a month that would
// hold one is refused before anything is written.

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class TaskMonthTests: XCTestCase {
    static let counts = TaskMonth.Counts(rejectionSamplingPrompts: 200, ppoPrompts: 200, annotatePrompts: 600, validationPrompts: 100)

    func source(_ fixture: TaskFixture) throws -> MonthFiles.Source {
        let taskJSON = try fixture.bytes(TaskFiles.manifest)
        return MonthFiles.Source(taskJSON: taskJSON, sha256: "sha-of-task-json", seed: fixture.seed,
                                 evalPrompts: try fixture.evalPrompts().map { $0.prompt! })
    }

    func write(_ fixture: TaskFixture, month: Int, seed: UInt64? = nil, name: String) throws -> URL {
        let out = fixture.directory.deletingLastPathComponent().appendingPathComponent("plumb-month-test-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: out)
        addTeardownBlock { try? FileManager.default.removeItem(at: out) }
        let month = TaskMonth(settings: fixture.manifest.settings, seed: seed ?? fixture.seed, month: month, counts: Self.counts)
        try MonthFiles.write(month, month.generate(), source: try source(fixture), to: out)
        return out
    }

    func records(_ directory: URL, _ name: String) throws -> [MessageRecord] {
        try String(decoding: Data(contentsOf: directory.appendingPathComponent(name)), as: UTF8.self)
            .split(separator: "\n").map { try JSONDecoder().decode(MessageRecord.self, from: Data($0.utf8)) }
    }

    static let files = [MonthFiles.rejectionSamplingPrompts, MonthFiles.ppoPrompts, MonthFiles.annotatePrompts, MonthFiles.validationPrompts,
                        MonthFiles.manifest, TaskFiles.manifest]

    func testSameMonthSameBytesAndAnotherMonthOtherPrompts() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let a = try write(fixture, month: 2, name: "a"), b = try write(fixture, month: 2, name: "b")
        for name in Self.files {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: b.appendingPathComponent(name)), name)
        }
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(TaskFiles.manifest)), try fixture.bytes(TaskFiles.manifest),
                       "task.json is copied byte for byte")
        let manifest = try JSONDecoder().decode(MonthManifest.self, from: Data(contentsOf: a.appendingPathComponent(MonthFiles.manifest)))
        XCTAssertEqual(manifest.month, 2)
        XCTAssertEqual(manifest.seed, fixture.seed)
        XCTAssertEqual(manifest.sourceTask.sha256, "sha-of-task-json")
        XCTAssertEqual(manifest.records, [MonthFiles.rejectionSamplingPrompts: 200, MonthFiles.ppoPrompts: 200, MonthFiles.annotatePrompts: 600,
                                          MonthFiles.validationPrompts: 100])
        XCTAssertEqual(manifest.evalPromptsChecked, fixture.manifest.settings.sizes.evalPrompts)

        // Month 3, and month 2 under another seed: other draws in every file (a few texts may recur
        // where the prompt space is small, as in the safety prompts).
        for other in [try write(fixture, month: 3, name: "c"), try write(fixture, month: 2, seed: 99, name: "d")] {
            for name in [MonthFiles.rejectionSamplingPrompts, MonthFiles.ppoPrompts, MonthFiles.annotatePrompts, MonthFiles.validationPrompts] {
                let mine = try records(a, name).map { $0.prompt! }, theirs = Set(try records(other, name).map { $0.prompt! })
                XCTAssertLessThan(mine.filter(theirs.contains).count, mine.count / 10, "\(other.lastPathComponent) \(name)")
            }
        }
    }

    func testIdsCarryTheMonthAndNoPromptIsHeldOutOrAnEvalPrompt() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let month = try write(fixture, month: 2, name: "ids")
        var monthIds: [String] = [], monthTexts: [String] = []
        for (name, prefix) in [(MonthFiles.rejectionSamplingPrompts, "m2-rs-"), (MonthFiles.ppoPrompts, "m2-ppo-"), (MonthFiles.annotatePrompts, "m2-ann-"),
                               (MonthFiles.validationPrompts, "m2-val-")] {
            let r = try records(month, name)
            XCTAssertTrue(r.allSatisfy { $0.id.hasPrefix(prefix) && $0.messages.count == 1 && $0.messages[0].role == "user" }, name)
            XCTAssertEqual(Set(r.map { $0.prompt!.lowercased() }).count, r.count, "\(name): distinct prompts")
            XCTAssertTrue(r.allSatisfy { $0.tags == TaskPrompts.parse($0.prompt!)?.tags }, "\(name): tags as the generator writes them")
            monthIds += r.map(\.id)
            monthTexts += r.map { $0.prompt! }
        }
        XCTAssertEqual(Set(monthIds).count, monthIds.count, "ids are unique within the month")

        // Every id of month 1: prompt sets, SFT, comparisons, rankings and edits, evaluation prompts and pairs.
        var monthOne = Set<String>()
        for name in [TaskFiles.rejectionSamplingPrompts, TaskFiles.ppoPrompts, TaskFiles.validationPrompts, TaskFiles.sft, TaskFiles.evalPrompts] {
            monthOne.formUnion(try fixture.jsonl(name, as: MessageRecord.self).map(\.id))
        }
        monthOne.formUnion(try fixture.comparisons().map(\.id))
        monthOne.formUnion(try fixture.jsonl(TaskFiles.rewardEval, as: ComparisonRecord.self).map(\.id))
        monthOne.formUnion(try fixture.rankings().map(\.meta.recordId))
        monthOne.formUnion(try fixture.edits().map(\.meta.recordId))
        XCTAssertGreaterThan(monthOne.count, 5_000)
        XCTAssertTrue(monthOne.isDisjoint(with: monthIds), "\(monthOne.intersection(monthIds).prefix(3))")

        let eval = try fixture.evalPrompts().map { $0.prompt! }
        XCTAssertTrue(Set(eval).isDisjoint(with: monthTexts))
        XCTAssertEqual(HeldOutCheck.evalInTraining(eval: eval, training: Set(monthTexts)), 0)
        let validation = try records(month, MonthFiles.validationPrompts).map { $0.prompt! }
        XCTAssertEqual(HeldOutCheck.trainingHeldOut(monthTexts.filter { !validation.contains($0) }), 0,
                       "training prompts use no held-out wording or entity and no validation entity")
        XCTAssertEqual(HeldOutCheck.validationHeldOut(validation), 0, "validation prompts use no held-out wording or entity")
        XCTAssertEqual(HeldOutCheck.trainingHeldOut(eval), eval.count, "the check flags every evaluation prompt")
    }

    /// A month whose sets held an evaluation prompt is refused, and nothing is written.
    func testAMonthHoldingAnEvalPromptIsRefused() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let month = TaskMonth(settings: fixture.manifest.settings, seed: 1, month: 2, counts: Self.counts)
        var prompts = month.generate()
        prompts.annotate.append(try fixture.evalPrompts()[7])
        let out = fixture.directory.deletingLastPathComponent().appendingPathComponent("plumb-month-test-\(getpid())-refused")
        XCTAssertThrowsError(try MonthFiles.write(month, prompts, source: try source(fixture), to: out)) {
            XCTAssertTrue("\($0)".contains("1 evaluation prompts among the month's prompts, 1 month prompts held out"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
