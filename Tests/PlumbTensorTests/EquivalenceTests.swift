// The TRL-style invariants: packed == one by one; 8 micro-batches == one batch of 8; the whole
// network's gradient == finite differences.
import XCTest
@testable import PlumbTensor

final class EquivalenceTests: XCTestCase {
    func testPackedBatchEqualsExamplesOneByOne() throws {
        var rng = SeededRNG(seed: 50)
        let lengths = [5, 2, 6, 2], prompts = [1, 0, 2, 1]
        let examples = try zip(lengths, prompts).map { try randomExample(length: $0, promptLength: $1, &rng) }
        let packed = try BatchLayout.packed(examples, batchSize: 2, seqLen: 8, padToken: 0)
        XCTAssertEqual(packed.spans.map(\.row), [0, 0, 1, 1], "5+2 in row 0 (one padding token), 6+2 in row 1")

        // Packed: gradient of the summed NLL (divisor 1), per-example log-likelihoods from the spans.
        let net = try TinyNetwork(seed: 51)
        net.parameters.zeroGrad()
        try net.trainStep(packed, divisor: 1)
        let packedGrads = Tensor(zeros: [net.parameters.totalCount])
        packedGrads.pointer.update(from: net.parameters.gradients.base, count: packedGrads.count)
        let lp = try net.targetLogProbs(packed)
        let packedPerExample = packed.spans.map { span in packed.flatRange(of: span).reduce(0.0) { $0 + Double(lp.pointer[$1]) } }

        // One by one: each example alone in a (1, length) batch; gradients add up in the arena.
        net.parameters.zeroGrad()
        var alonePerExample: [Double] = []
        for example in examples {
            let alone = try BatchLayout.padded([example], batchSize: 1, seqLen: example.tokens.count, padToken: 0)
            try net.trainStep(alone, divisor: 1)
            let lpAlone = try net.targetLogProbs(alone)
            alonePerExample.append((0..<alone.tokenCount).reduce(0.0) { $0 + Double(lpAlone.pointer[$1]) })
        }
        for (i, (a, b)) in zip(packedPerExample, alonePerExample).enumerated() {
            XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "example \(i) log-likelihood")
        }
        let aloneGrads = try Tensor(storage: net.parameters.gradients, offset: 0, shape: [net.parameters.totalCount])
        assertClose(packedGrads, aloneGrads, atol: 1e-5, rtol: 1e-4, "packed vs one-by-one gradients")
    }

    func testEightMicroBatchesEqualOneBatchOfEight() throws {
        var rng = SeededRNG(seed: 52)
        let examples = try (0..<8).map { _ in try randomExample(length: 6, promptLength: 2, &rng) }
        let full = try BatchLayout.padded(examples, batchSize: 8, seqLen: 6, padToken: 0)

        let one = try TinyNetwork(seed: 53), accumulated = try TinyNetwork(seed: 53)
        one.parameters.zeroGrad()
        let fullLoss = try one.trainStep(full)
        accumulated.parameters.zeroGrad()
        var microLosses: Float = 0
        for example in examples {   // each micro-batch has 4 target tokens, so mean of means = mean
            microLosses += try accumulated.trainStep(try BatchLayout.padded([example], batchSize: 1, seqLen: 6, padToken: 0))
        }
        accumulated.parameters.scaleGradients(by: 1.0 / 8)
        XCTAssertEqual(microLosses / 8, fullLoss, accuracy: 1e-5)
        let g1 = try Tensor(storage: one.parameters.gradients, offset: 0, shape: [one.parameters.totalCount])
        let g8 = try Tensor(storage: accumulated.parameters.gradients, offset: 0, shape: [one.parameters.totalCount])
        assertClose(g8, g1, atol: 1e-6, rtol: 1e-4, "accumulated vs full-batch gradient")

        // The same after an AdamW step with clipping on both.
        for net in [one, accumulated] {
            GradientClipping.clip(net.parameters, maxNorm: 1)
            try AdamW(parameters: net.parameters).update(net.parameters, learningRate: 1e-2)
        }
        let p1 = try Tensor(storage: one.parameters.values, offset: 0, shape: [one.parameters.totalCount])
        let p8 = try Tensor(storage: accumulated.parameters.values, offset: 0, shape: [one.parameters.totalCount])
        assertClose(p8, p1, atol: 1e-5, "parameters after one step")
    }

    func testWholeNetworkGradientMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 54)
        let examples = try [4, 3].map { try randomExample(length: $0, promptLength: 1, &rng) }
        let batch = try BatchLayout.packed(examples, batchSize: 1, seqLen: 8, padToken: 0)
        let net = try TinyNetwork(seed: 55)
        net.parameters.zeroGrad()
        try net.trainStep(batch)
        for e in net.parameters.entries {
            try assertGradientMatches(e.name, input: net.parameters.value(of: e), analytic: net.parameters.gradient(of: e),
                                      h: 5e-3, atol: 1e-3, rtol: 2e-2, maxElements: 60) {
                let a = try net.forward(batch)
                return Double(try CrossEntropy.meanLoss(logits: a.logits, targets: batch.targets).loss)
            }
        }
    }

    func testFrozenParametersKeepZeroGradientAndDoNotMove() throws {
        var rng = SeededRNG(seed: 56)
        let batch = try BatchLayout.padded([try randomExample(length: 5, promptLength: 1, &rng)], batchSize: 1, seqLen: 5, padToken: 0)
        let net = try TinyNetwork(seed: 57)
        XCTAssertEqual(net.parameters.setTrainable(false) { $0.hasPrefix("embed") || $0.hasPrefix("q_proj") }, 2)
        let before = try net.parameters.value("q_proj.weight").copy()
        net.parameters.zeroGrad()
        try net.trainStep(batch)
        XCTAssertEqual(Reductions.sumOfSquares(try net.parameters.gradient("q_proj.weight")), 0)
        XCTAssertGreaterThan(Reductions.sumOfSquares(try net.parameters.gradient("k_proj.weight")), 0)
        try AdamW(parameters: net.parameters).update(net.parameters, learningRate: 0.1)
        XCTAssertEqual(try net.parameters.value("q_proj.weight").array, before.array)
    }
}
