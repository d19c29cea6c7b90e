// KTO's objective through the whole model: its parameter gradient against central differences of
// its own evaluation loss (train = validation, one micro-batch). KTO holds z0 fixed in the gradient
// while the differences would move it, so the twins' references are set to clamp z0 at 0, where it
// is locally constant; KTOLossTests checks the loss with z0 > 0.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbTensor
import XCTest

final class KTOObjectiveTests: XCTestCase {
    let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 32, maxSeqLen: 32)

    /// `count` examples alternating desirable / undesirable, each twinned with the next one's response;
    /// the references shifted so that r sits away from 0 and every KL estimate is about -0.9.
    func examples(_ model: LlamaModel, count: Int, seed: UInt64) throws -> [KTOExample] {
        var rng = SeededRNG(seed: seed)
        let prompts = (0..<count).map { _ in (0..<Int.random(in: 4...6, using: &rng)).map { _ in Int32.random(in: 3..<32, using: &rng) } }
        let responses = (0..<count).map { _ in (0..<Int.random(in: 2...9, using: &rng)).map { _ in Int32.random(in: 3..<32, using: &rng) } }
        func example(_ p: Int, _ r: Int) throws -> BatchLayout.Example {
            try ResponseLikelihood.example(TokenizedExample(tokens: prompts[p] + responses[r], promptCount: prompts[p].count), seqLen: 31)
        }
        let likelihood = try ResponseLikelihood(model: model, seqLen: 32, padToken: 0)
        return try (0..<count).map { i in
            let own = try example(i, i), twin = try example(i, (i + 1) % count)
            let values = try likelihood.logLikelihoods([own, twin])
            return KTOExample(id: "e\(i)", example: own, desirable: i % 2 == 0, reference: values[0].logProb + (i % 2 == 0 ? 0.6 : -0.4),
                              mismatched: twin, mismatchedReference: values[1].logProb + 0.9)
        }
    }

    func testObjectiveGradientMatchesFiniteDifferences() throws {
        let model = try LlamaModel(config: config, heads: .lm, seed: 6)
        let data = try examples(model, count: 4, seed: 9)
        let objective = try KTOObjective(model: model, train: data, validation: data, loss: KTOLoss(beta: 0.5), rows: 8, seqLen: 32, padToken: 0)
        XCTAssertEqual(try objective.evaluate()["eval_kl"]!, 0, "the mean KL estimate is about -0.9: z0 clamps at 0")
        model.parameters.zeroGrad()
        let result = try objective.accumulate(indices: [0, 1, 2, 3], scale: 1)
        XCTAssertEqual(Double(result.loss), try objective.evaluate()["eval_loss"]!, accuracy: 1e-6, "one micro-batch: the same loss")
        try assertGradientMatchesCentralDifferences(model, "kto") { try objective.evaluate()["eval_loss"]! }
    }
}
