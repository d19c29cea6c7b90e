// SFT mixture weights: whole copies plus a seeded share chosen by record id (so the choice does not
// depend on record order), applied to the training split only, and bad weights refused.
import Foundation
import PlumbData
@testable import PlumbStages
import XCTest

final class DemonstrationMixtureTests: XCTestCase {
    func testWeightsGiveCopiesAndAnIdSeededShare() throws {
        let ids = (0..<4000).map { "demo-\($0)" }
        let mixture = try DemonstrationMixture(weights: [2, 0.25, 0], stages: 3, seed: 7)
        XCTAssertEqual(mixture.apply(ids, stage: 0, id: { $0 }), ids + ids)
        XCTAssertEqual(mixture.apply(ids, stage: 2, id: { $0 }), [])
        let quarter = mixture.apply(ids, stage: 1, id: { $0 })
        // Binomial(4000, 0.25): standard deviation 27.4; 4 of them is the tolerance.
        XCTAssertEqual(Double(quarter.count), 1000, accuracy: 4 * 27.4)
        XCTAssertEqual(Set(mixture.apply(ids.reversed(), stage: 1, id: { $0 })), Set(quarter), "the share depends on ids, not order")
        XCTAssertNotEqual(Set(try DemonstrationMixture(weights: [2, 0.25, 0], stages: 3, seed: 8).apply(ids, stage: 1, id: { $0 })), Set(quarter))
        XCTAssertEqual(try DemonstrationMixture(weights: [], stages: 2, seed: 1).weights, [1, 1])
    }

    func testBadWeightsAreRefused() {
        XCTAssertThrowsError(try DemonstrationMixture(weights: [1], stages: 2, seed: 1)) { XCTAssertTrue("\($0)".contains("one weight per --data")) }
        XCTAssertThrowsError(try DemonstrationMixture(weights: [1, -0.5], stages: 2, seed: 1))
        XCTAssertThrowsError(try DemonstrationMixture(weights: [.nan, 1], stages: 2, seed: 1))
    }

    /// The fixture's SFT demonstrations given twice, at weights 1 and 0.5: about 1.5 times the
    /// training examples, and the validation examples twice (weights do not touch validation).
    func testTheStageCountsWeightedTrainingExamplesOnly() throws {
        let f = try StageFixtures.fixture()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: f.tokenizer.path), template: .plumbline)
        var p = SFTStage.Parameters()
        let inputs = StageInputs(["tokenizer": [f.tokenizer], "data": [f.importSFT, f.importSFT]])
        let once = try LanguageModelStage.loadExamples(p, mask: SFTStage.mask, inputs: StageInputs(["tokenizer": [f.tokenizer], "data": [f.importSFT]]),
                                                       tokenizer: templated.tokenizer, templated: templated)
        p.dataWeight = [1, 0.5]
        let mixed = try LanguageModelStage.loadExamples(p, mask: SFTStage.mask, inputs: inputs, tokenizer: templated.tokenizer, templated: templated)
        let n = Double(once.train.examples.count)
        XCTAssertEqual(Double(mixed.train.examples.count), 1.5 * n, accuracy: 4 * (n * 0.25).squareRoot())
        XCTAssertGreaterThan(once.validation.examples.count, 0, "the fixture holds validation demonstrations")
        XCTAssertEqual(mixed.validation.examples.count, 2 * once.validation.examples.count)
    }
}
