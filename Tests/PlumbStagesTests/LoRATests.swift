// LoRA adapters on a frozen base (Sources/PlumbModel/LoRA): the gradient with respect to A and B
// against central differences (the shared check, GradientCheck.swift), with and without dropout;
// merged against unmerged outputs; a switched-off adapter gives the base's logits bit for bit; the
// base takes no gradient and AdamW holds moments for the adapter only; a few steps fit a batch.
import Foundation
import PlumbModel
import PlumbTensor
import XCTest

final class LoRATests: XCTestCase {
    /// dim 16, hidden 40, 2 layers, 4 heads (head_dim 4), 2 kv heads, vocab 32.
    let config = LlamaPreset.tiny.config

    /// A base with well-spread logits: weights N(0, 0.3), norm gains 1, frozen with no gradient arena.
    func frozenBase(seed: UInt64 = 11, config: LlamaConfig? = nil) throws -> LlamaModel {
        let model = try LlamaModel(config: config ?? self.config, heads: .lm, seed: seed)
        model.initialize(seed: seed, std: 0.3)
        model.parameters.releaseGradients()
        return model
    }

    /// An adapter with PEFT's init, then B drawn too (a fresh B is zero, which makes dA zero).
    func trainedAdapter(_ settings: LoRASettings = LoRASettings(rank: 4, alpha: 8), seed: UInt64 = 12,
                        config: LlamaConfig? = nil) throws -> LoRAAdapter {
        try LoRAFixture.trainedAdapter(config: config ?? self.config, settings: settings, seed: seed)
    }

    func batch() throws -> BatchLayout { try LoRAFixture.packedBatch() }

    /// Every A and B element with the largest |gradient| in its tensor, plus the shared check's defaults.
    func checkedElements(_ adapter: LoRAAdapter) throws -> [Int] {
        let g = adapter.parameters.gradients.base
        return adapter.parameters.entries.map { e in
            (e.offset..<e.offset + e.count).max { abs(g[$0]) < abs(g[$1]) }!
        }
    }

    func testGradientOfAAndBMatchesCentralDifferences() throws {
        for dropout: Float in [0, 0.25] {
            let base = try frozenBase()
            let adapter = try trainedAdapter(LoRASettings(rank: 4, alpha: 8, dropout: dropout))
            adapter.training = true
            let b = try batch(), acts = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
            let masks = adapter.dropoutRNG   // every pass draws the same dropout masks
            func loss() throws -> Double {
                adapter.dropoutRNG = masks
                try base.forward(b, acts, adapter: adapter)
                return Double(try base.languageModelLoss(acts, backward: false).loss)
            }
            adapter.parameters.zeroGrad()
            adapter.dropoutRNG = masks
            try base.forward(b, acts, adapter: adapter)
            try base.languageModelLoss(acts)
            try base.backward(acts)
            let elements = try checkedElements(adapter)
            XCTAssertEqual(elements.count, 2 * 7 * 2)   // A and B of 7 targets in 2 layers
            try assertGradientMatchesCentralDifferences(adapter.parameters, "LoRA dropout \(dropout)", elements: elements) { try loss() }
            try assertGradientMatchesCentralDifferences(adapter.parameters, "LoRA dropout \(dropout), largest") { try loss() }
            // The frozen base holds no gradient memory at all.
            XCTAssertEqual(base.parameters.gradients.count, 0)
        }
    }

    /// Off, a trained adapter leaves the pass bit for bit the bare base's; on, it changes the logits.
    func testSwitchedOffAdapterGivesTheBaseBitForBit() throws {
        let base = try frozenBase(), adapter = try trainedAdapter(), b = try batch()
        let bare = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        let adapted = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        try base.forward(b, bare)
        try base.forward(b, adapted, adapter: adapter)
        XCTAssertGreaterThan(try adapted.logits!.maxAbsDifference(bare.logits!), 0.1)
        adapter.enabled = false
        try base.forward(b, adapted, adapter: adapter)
        XCTAssertEqual(adapted.logits!.array.map(\.bitPattern), bare.logits!.array.map(\.bitPattern))
        // A fresh adapter (B = 0) changes nothing either, within rounding of adding zeros: exactly.
        let fresh = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 8), seed: 5)
        try base.forward(b, adapted, adapter: fresh)
        XCTAssertEqual(try adapted.logits!.maxAbsDifference(bare.logits!), 0)
    }

    /// W + (alpha / r) B A merged into a copy gives the unmerged pass's logits up to fp32 rounding of
    /// the two orders of summation: logits here are O(10), and a few ulps at that scale are ~1e-5.
    func testMergedMatchesUnmerged() throws {
        let base = try frozenBase(), adapter = try trainedAdapter(), b = try batch()
        let unmerged = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        try base.forward(b, unmerged, adapter: adapter)
        let merged = try adapter.merged(with: base)
        let actsMerged = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        try merged.forward(b, actsMerged)
        let scale = unmerged.logits!.array.map(abs).max()!
        let difference = try actsMerged.logits!.maxAbsDifference(unmerged.logits!)
        print("LoRA merged vs unmerged: max |logit| \(scale), max difference \(difference)")
        XCTAssertLessThanOrEqual(difference, 1e-5 * max(scale, 1))
        // The base itself is untouched by `merged(with:)`; merging then un-merging in place restores it up to rounding.
        let copy = try adapter.merged(with: base)
        try adapter.merge(into: copy, sign: -1)
        let drift = try copy.tensors().map { name, t in try t.maxAbsDifference(try base.parameters.value(name)) }.max()!
        XCTAssertLessThanOrEqual(drift, 1e-6)
    }

    /// AdamW over the adapter's ParameterSet: its moments are 2 x 4 bytes per adapter scalar, none for
    /// the base; after steps the base is bit for bit unchanged and the loss falls. A base frozen with
    /// its gradient arena kept gets no gradient either (every entry stays zero).
    func testTrainingTouchesOnlyTheAdapter() throws {
        let base = try LlamaModel(config: config, heads: .lm, seed: 11), b = try batch()
        base.initialize(seed: 11, std: 0.3)
        base.setTrainable(false) { _ in true }
        let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 8), seed: 3)
        let before = base.parameters.values.base.withMemoryRebound(to: UInt32.self, capacity: base.parameters.totalCount) {
            Array(UnsafeBufferPointer(start: $0, count: base.parameters.totalCount))
        }
        let optimizer = AdamW(parameters: adapter.parameters, config: AdamWConfig(weightDecay: 0))
        XCTAssertEqual(adapter.optimizerBytes, 8 * adapter.parameters.totalCount)
        // rank 4 on all 7 projections of 2 layers, 4 (in + out) each: q, o (16 + 16), k, v (16 + 8),
        // gate, up, down (16 + 40).
        XCTAssertEqual(adapter.parameters.totalCount, 2 * 4 * (2 * (16 + 16) + 2 * (16 + 8) + 3 * (16 + 40)))
        let acts = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        var losses: [Float] = []
        for _ in 0..<30 {
            adapter.parameters.zeroGrad()
            try base.forward(b, acts, adapter: adapter)
            losses.append(try base.languageModelLoss(acts).loss)
            try base.backward(acts)
            try optimizer.update(adapter.parameters, learningRate: 2e-2)
        }
        XCTAssertLessThan(losses.last!, 0.5 * losses.first!, "losses \(losses)")
        let after = base.parameters.values.base.withMemoryRebound(to: UInt32.self, capacity: base.parameters.totalCount) {
            Array(UnsafeBufferPointer(start: $0, count: base.parameters.totalCount))
        }
        XCTAssertEqual(before, after)
        XCTAssertTrue(UnsafeBufferPointer(start: base.parameters.gradients.base, count: base.parameters.totalCount).allSatisfy { $0 == 0 })
        print("LoRA tiny: base \(base.parameters.totalCount) scalars, adapter \(adapter.parameters.totalCount), AdamW moments \(adapter.optimizerBytes) bytes (full fine-tuning: \(8 * base.parameters.totalCount))")
    }

    /// Same seed, same adapter and same training bits.
    func testSameSeedSameBits() throws {
        let s = LoRASettings(rank: 2, alpha: 4, dropout: 0.1)
        let one = try LoRAAdapter(config: config, settings: s, seed: 9), two = try LoRAAdapter(config: config, settings: s, seed: 9)
        XCTAssertEqual(UnsafeBufferPointer(start: one.parameters.values.base, count: one.parameters.totalCount).map(\.bitPattern),
                       UnsafeBufferPointer(start: two.parameters.values.base, count: two.parameters.totalCount).map(\.bitPattern))
        XCTAssertEqual(one.dropoutRNG, two.dropoutRNG)
        // PEFT's init: A within +-1/sqrt(in), B zero.
        for m in one.allModules {
            let bound = 1 / Float(m.a.shape[1]).squareRoot()
            XCTAssertTrue(m.a.array.allSatisfy { abs($0) <= bound })
            XCTAssertTrue(m.b.array.allSatisfy { $0 == 0 })
        }
    }
}

/// A reward model's and a critic's heads carried by the adapter (modules_to_save): the pass with the
/// adapter reads and trains the adapter's heads on a base that has none, and their gradients and
/// A's and B's match central differences.
final class LoRAHeadTests: XCTestCase {
    func testHeadsInTheAdapterMatchCentralDifferences() throws {
        let config = LlamaPreset.tiny.config
        let base = try LlamaModel(config: config, heads: .lm, seed: 21)
        base.initialize(seed: 21, std: 0.3)
        base.parameters.releaseGradients()
        let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 2, alpha: 4, targets: [.q, .down]),
                                      heads: [.reward, .value], seed: 22)
        var rng = SeededRNG(seed: 23)
        for m in adapter.allModules { rng.fillNormal(m.b, std: 0.3) }
        let example = try BatchLayout.Example(tokens: [1, 5, 9, 3, 7, 2], targets: [5, 9, 3, 7, 2, -1])
        let batch = try BatchLayout.packed([example, example], batchSize: 1, seqLen: 12, padToken: 0)
        let acts = try LlamaActivations(config: config, batchSize: 1, seqLen: 12, logits: false)
        let rows = base.lastTokenRows(batch)
        let dValues = try Tensor(shape: [12], values: (0..<12).map { Float($0 % 4) * 0.2 - 0.3 })
        func loss() throws -> Double {
            try base.forward(batch, acts, adapter: adapter)
            let r = try base.rewardForward(acts, rows: rows), v = try base.valueForward(acts)
            return Double(r[0] - 0.5 * r[1] + (0..<12).reduce(Float(0)) { $0 + dValues.pointer[$1] * v.pointer[$1] })
        }
        adapter.parameters.zeroGrad()
        try base.forward(batch, acts, adapter: adapter)
        try base.rewardBackward(acts, rows: rows, dRewards: [1, -0.5])
        try base.valueBackward(acts, dValues: dValues)
        try base.backward(acts)
        let g = adapter.parameters.gradients.base
        let elements = adapter.parameters.entries.map { e in (e.offset..<e.offset + e.count).max { abs(g[$0]) < abs(g[$1]) }! }
        XCTAssertEqual(adapter.parameters.entries.suffix(2).map(\.name), [LlamaTensorNames.rewardHead, LlamaTensorNames.valueHead])
        try assertGradientMatchesCentralDifferences(adapter.parameters, "LoRA heads", elements: elements) { try loss() }
        // Without the adapter the base has no reward head to read.
        try base.forward(batch, acts)
        XCTAssertThrowsError(try base.rewardForward(acts, rows: rows))
        // Merged: the merged model has the adapter's heads and gives the same rewards (fp32 rounding).
        let merged = try adapter.merged(with: base)
        XCTAssertTrue(merged.heads.contains(.reward) && merged.heads.contains(.value))
        let mergedActs = try LlamaActivations(config: config, batchSize: 1, seqLen: 12, logits: false)
        try merged.forward(batch, mergedActs)
        try base.forward(batch, acts, adapter: adapter)
        let a = try base.rewardForward(acts, rows: rows), b = try merged.rewardForward(mergedActs, rows: rows)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x))) }
    }
}
