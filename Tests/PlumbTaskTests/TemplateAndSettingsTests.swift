// Templates parse back what they render; the shipped settings files are the presets.

import Foundation
import XCTest
@testable import PlumbTask

final class TemplateAndSettingsTests: XCTestCase {
    func testEveryRenderedPromptParsesBackToItsSpec() {
        var rng = TaskRandom(seed: 3)
        for split in [PromptSplit.training, .evaluation] {
            for _ in 0..<2000 {
                let spec = PromptSampler.sample(split, mix: TaskSettings.standard.promptMix, rng: &rng)
                XCTAssertEqual(TaskPrompts.parse(spec.text)?.task, spec.task, spec.text)
                XCTAssertEqual(TaskPrompts.parse(spec.text.uppercased())?.task, spec.task, "case-insensitive: \(spec.text)")
            }
        }
    }

    func testGreetingsAndSignOffsDoNotChangeWhatIsAsked() throws {
        let spec = try XCTUnwrap(TaskPrompts.parse("Hi! What is 2 plus 9? Thanks!"))
        XCTAssertEqual(spec.task, .add(2, 9))
        XCTAssertEqual(spec.wrapper, PromptWrapper(prefix: "Hi! ", suffix: " Thanks!"))
        XCTAssertEqual(TaskPrompts.parse("Please tell me the sum of 2 and 9.")?.task, .add(2, 9), "a wording that starts like a greeting")
        XCTAssertNil(TaskPrompts.parse("Hi! Thanks!"))
    }

    /// Importers drop repeated records; the generator writes no repeated prompt within a file.
    func testNoPromptRepeatsWithinAFile() throws {
        let fixture = try TaskFixture.quick(seed: 1)
        for name in [TaskFiles.sft, TaskFiles.rejectionSamplingPrompts, TaskFiles.ppoPrompts, TaskFiles.validationPrompts, TaskFiles.evalPrompts] {
            let prompts = try fixture.jsonl(name, as: MessageRecord.self).map { $0.prompt!.lowercased() }
            XCTAssertEqual(Set(prompts).count, prompts.count, name)
        }
        XCTAssertEqual(fixture.manifest.records[TaskFiles.sft], TaskSettings.quick.sizes.sftDemonstrations)
        XCTAssertEqual(fixture.manifest.records[TaskFiles.validationPrompts], TaskSettings.quick.sizes.validationPrompts)
    }

    func testTemplateMatchExtractsSlots() {
        let template = PromptTemplate("t", "Subtract {b} from {a}.")
        XCTAssertEqual(template.match("Subtract 3 from 10."), ["a": "10", "b": "3"])
        XCTAssertNil(template.match("Subtract 3 from 10?"))
        XCTAssertNil(template.match("Subtract  from 10."))
        XCTAssertEqual(template.render(["a": "10", "b": "3"]), "Subtract 3 from 10.")
    }

    func testShippedSettingsFilesAreThePresets() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        XCTAssertEqual(try TaskSettings.load(from: root.appendingPathComponent("data/task-standard.json")), .standard)
        XCTAssertEqual(try TaskSettings.load(from: root.appendingPathComponent("data/task-quick.json")), .quick)
    }

    func testInvalidSettingsAreRejectedWithTheField() {
        var settings = TaskSettings.quick
        settings.sftFlaws.overRefusal = 1.5
        XCTAssertThrowsError(try settings.validate()) { XCTAssertTrue(String(describing: $0).contains("sftFlaws.overRefusal")) }
        settings = .quick
        settings.promptMix.harmful = 0.5
        XCTAssertThrowsError(try settings.validate()) { XCTAssertTrue(String(describing: $0).contains("promptMix")) }
    }

    /// The world's facts are fixed: the same for every generator and the oracle.
    func testWorldIsFixedAndHoldsOutEntities() {
        let world = World.standard
        XCTAssertEqual(world.towns.count, 52)
        XCTAssertEqual(Set(world.towns.map(\.name)).count, 52)
        XCTAssertEqual(Set(world.nouns).count, world.nouns.count)
        XCTAssertEqual(world.heldOutTowns.count, 8)
        XCTAssertEqual(world.heldOutNouns.count, 8)
        XCTAssertEqual(world.towns(.validation).count, 4)
        XCTAssertEqual(world.nouns(.validation).count, 4)
        for split in EntitySplit.allCases {
            XCTAssertTrue(SafetyCatalog.harmful.contains { $0.split == split } && SafetyCatalog.benign.contains { $0.split == split }, split.rawValue)
        }
        // The validation towns are drawn after the others, so the others' facts do not depend on them.
        XCTAssertEqual(world.towns.prefix(48).map(\.name), Array(World.townNames))
        for kind in TaskKind.allCases { XCTAssertFalse(kind.heldOutTemplates.isEmpty, kind.rawValue) }
    }
}
