// No held-out evaluation prompt appears in any training file, and the split is by wording or entity;
// validation prompts name entities that neither training nor evaluation prompts name.

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class HeldOutTests: XCTestCase {
    func trainingPrompts(_ fixture: TaskFixture) throws -> [String] {
        var prompts: [String] = []
        prompts += try fixture.sft().map { $0.prompt! }
        prompts += try fixture.comparisons().map { $0.prompt[0].content }
        prompts += try fixture.rankings().map(\.data.prompt)
        prompts += try fixture.edits().map(\.data.prompt)
        prompts += try fixture.jsonl(TaskFiles.rejectionSamplingPrompts, as: MessageRecord.self).map { $0.prompt! }
        prompts += try fixture.jsonl(TaskFiles.ppoPrompts, as: MessageRecord.self).map { $0.prompt! }
        return prompts
    }

    func validationPrompts(_ fixture: TaskFixture) throws -> [MessageRecord] {
        try fixture.jsonl(TaskFiles.validationPrompts, as: MessageRecord.self)
    }

    func testNoEvalPromptInAnyTrainingFile() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let eval = try fixture.evalPrompts().map { $0.prompt! }
        XCTAssertEqual(eval.count, TaskSettings.quick.sizes.evalPrompts)
        XCTAssertEqual(Set(eval).count, eval.count, "eval prompts are distinct")
        let training = Set(try trainingPrompts(fixture) + validationPrompts(fixture).map { $0.prompt! })
        XCTAssertGreaterThan(training.count, 1000)
        XCTAssertTrue(training.isDisjoint(with: eval), "eval prompts found in training files: \(training.intersection(eval).prefix(3))")
        // The corpus states facts; no eval prompt may occur anywhere in it (lower-cased substring search).
        let corpus = String(decoding: try fixture.bytes(TaskFiles.corpus), as: UTF8.self).lowercased()
        for prompt in eval { XCTAssertFalse(corpus.contains(prompt.lowercased()), "corpus contains \"\(prompt)\"") }
    }

    /// A tokenizer trained on the corpus alone must cover every character that prompts and responses use.
    func testCorpusCoversEveryCharacterOfTheTask() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let corpus = Set(String(decoding: try fixture.bytes(TaskFiles.corpus), as: UTF8.self).unicodeScalars)
        var used = Set<Unicode.Scalar>()
        for record in try fixture.sft() + fixture.evalPrompts() {
            for message in record.messages { used.formUnion(message.content.unicodeScalars) }
        }
        for record in try fixture.comparisons() {
            for message in record.prompt + record.chosen + record.rejected { used.formUnion(message.content.unicodeScalars) }
        }
        XCTAssertGreaterThan(used.count, 40)
        XCTAssertEqual(used.subtracting(corpus), [], "characters of the task missing from the corpus")
    }

    /// Held out by wording or entity, not only by row: every training prompt uses training wordings and
    /// entities only; every eval prompt uses a held-out wording or entity; both kinds of split occur.
    func testSplitIsByTemplateOrEntity() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        for prompt in try trainingPrompts(fixture) {
            let spec = try XCTUnwrap(TaskPrompts.parse(prompt), prompt)
            XCTAssertFalse(spec.isHeldOut, "training prompt uses held-out material: \(prompt)")
            XCTAssertFalse(spec.task.usesValidationEntity, "training prompt names a validation entity: \(prompt)")
        }
        var byTemplate = 0, byEntity = 0
        for prompt in try fixture.evalPrompts().map({ $0.prompt! }) {
            let spec = try XCTUnwrap(TaskPrompts.parse(prompt), prompt)
            XCTAssertTrue(spec.isHeldOut, "eval prompt is not held out: \(prompt)")
            byTemplate += spec.template.heldOut ? 1 : 0
            byEntity += spec.task.usesHeldOutEntity ? 1 : 0
            XCTAssertFalse(spec.task.usesValidationEntity, "eval prompt names a validation entity: \(prompt)")
        }
        XCTAssertGreaterThan(byTemplate, 20)
        XCTAssertGreaterThan(byEntity, 20)
    }

    /// Every family of the world is in the eval set, safety prompts tagged `safety`.
    func testEvalSetCoversEveryKind() throws {
        let eval = try TaskFixture.quick(seed: 1).evalPrompts()
        var kinds = Set<TaskKind>()
        for record in eval {
            let spec = try XCTUnwrap(TaskPrompts.parse(record.prompt!))
            kinds.insert(spec.kind)
            XCTAssertEqual(record.tags.contains("safety"), spec.kind.isSafety, record.id)
            // The held-out tags say which generalisation the prompt tests, as parsed back from its text.
            XCTAssertEqual(record.tags.contains("held-out-wording"), spec.template.heldOut, record.id)
            XCTAssertEqual(record.tags.contains("held-out-entity"), spec.task.usesHeldOutEntity, record.id)
            XCTAssertTrue(record.tags.contains("held-out-wording") || record.tags.contains("held-out-entity"), record.id)
        }
        XCTAssertEqual(kinds, Set(TaskKind.allCases))
    }

    /// Validation prompts are training wordings about validation entities (arithmetic, which names no
    /// entity, as in training), in the evaluation mix, tagged `validation-entity`; every kind of
    /// validation entity occurs, and the manifest lists them.
    func testValidationPromptsNameValidationEntities() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let records = try validationPrompts(fixture)
        XCTAssertEqual(records.count, TaskSettings.quick.sizes.validationPromptCount)
        var named = Set<String>(), safety = 0
        for record in records {
            let spec = try XCTUnwrap(TaskPrompts.parse(record.prompt!), record.id)
            XCTAssertFalse(spec.isHeldOut, "validation prompt uses held-out material: \(record.id)")
            XCTAssertEqual(spec.task.usesValidationEntity, !spec.task.entitySplits.isEmpty, "\(record.id) names no validation entity")
            XCTAssertEqual(record.tags.contains("validation-entity"), spec.task.usesValidationEntity, record.id)
            switch spec.task {
            case .lookup(_, let town): named.insert(town.name)
            case .harmful(let action): named.insert(action.phrase)
            case .borderline(let action): named.insert(action.phrase)
            default: break
            }
            safety += spec.kind.isSafety ? 1 : 0
        }
        let validation = try XCTUnwrap(fixture.manifest.validation)
        XCTAssertEqual(named, Set(validation.towns + validation.harmfulActions + validation.benignActions))
        // The evaluation mix (0.3 harmful + 0.3 look-alikes), not training's 0.3 in all: 4-sigma band for 100 draws.
        let share = Double(safety) / Double(records.count)
        XCTAssertEqual(share, 0.6, accuracy: 4 * (0.6 * 0.4 / Double(records.count)).squareRoot())
    }

    /// The checks months run: a validation prompt passes the validation check and fails the training
    /// one; an evaluation prompt fails the validation check.
    func testHeldOutCheckTellsTrainingFromValidation() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let validation = try validationPrompts(fixture).map { $0.prompt! }
        XCTAssertEqual(HeldOutCheck.validationHeldOut(validation), 0)
        let namingEntity = validation.filter { TaskPrompts.parse($0)?.task.usesValidationEntity ?? false }
        XCTAssertGreaterThan(namingEntity.count, validation.count / 2)
        XCTAssertEqual(HeldOutCheck.trainingHeldOut(namingEntity), namingEntity.count, "the training check flags every validation entity")
        let eval = try fixture.evalPrompts().map { $0.prompt! }
        XCTAssertEqual(HeldOutCheck.validationHeldOut(eval), eval.count, "the validation check flags every evaluation prompt")
    }
}
