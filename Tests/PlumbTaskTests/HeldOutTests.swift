// No held-out evaluation prompt appears in any training file, and the split is by wording or entity.

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
        prompts += try fixture.jsonl(TaskFiles.validationPrompts, as: MessageRecord.self).map { $0.prompt! }
        return prompts
    }

    func testNoEvalPromptInAnyTrainingFile() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        let eval = try fixture.evalPrompts().map { $0.prompt! }
        XCTAssertEqual(eval.count, TaskSettings.quick.sizes.evalPrompts)
        XCTAssertEqual(Set(eval).count, eval.count, "eval prompts are distinct")
        let training = Set(try trainingPrompts(fixture))
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
        }
        var byTemplate = 0, byEntity = 0
        for prompt in try fixture.evalPrompts().map({ $0.prompt! }) {
            let spec = try XCTUnwrap(TaskPrompts.parse(prompt), prompt)
            XCTAssertTrue(spec.isHeldOut, "eval prompt is not held out: \(prompt)")
            byTemplate += spec.template.heldOut ? 1 : 0
            byEntity += spec.task.usesHeldOutEntity ? 1 : 0
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
}
