// Batch-invariant inference: what SequenceForward reads from a sequence is a function of the
// sequence alone (same bits in any company, order, chunking or workspace size), and agrees with the
// packed training forward pass within float32 rounding.
import PlumbTensor
@testable import PlumbModel
import XCTest

final class SequenceForwardTests: XCTestCase {
    // 64-token sequences: long enough that the attention runs several 64-row tiles at T = 100 below.
    let config = LlamaConfig(dim: 48, hiddenDim: 96, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 64, maxSeqLen: 160)

    func sequences(_ count: Int, seed: UInt64) -> [BatchLayout.Example] {
        var rng = TestRandom(seed)
        return (0..<count).map { _ in
            let length = 1 + Int(rng.next() % 100)
            let tokens = (0..<length).map { _ in Int32(rng.next() % 64) }
            return try! BatchLayout.Example(tokens: tokens, targets: tokens.map { _ in Int32(rng.next() % 64) })
        }
    }

    /// Each sequence's logits, as bit patterns.
    func logitBits(_ forward: SequenceForward, _ examples: [BatchLayout.Example]) throws -> [[UInt32]] {
        try forward.map(examples, padToken: 0) { acts, _ in bits(acts.logits!) }
    }

    func testASequenceGivesTheSameBitsInAnyCompanyOrderChunkingAndWorkspace() throws {
        let model = try spreadModel(config, seed: 5)
        let examples = sequences(24, seed: 9)
        let all = try logitBits(try SequenceForward(model: model, maxLength: 100, logits: true), examples)
        var shuffle = TestRandom(3)
        let order = Array(examples.indices).shuffled(using: &shuffle)
        let shuffled = try logitBits(try SequenceForward(model: model, maxLength: 100, logits: true), order.map { examples[$0] })
        let wide = try SequenceForward(model: model, maxLength: 160, logits: true)
        let alone = try examples.map { try logitBits(wide, [$0])[0] }
        for i in examples.indices {
            XCTAssertEqual(all[i], alone[i], "sequence \(i) (\(examples[i].tokens.count) tokens): alone in a wider workspace")
            XCTAssertEqual(all[order[i]], shuffled[i], "sequence \(order[i]): in another order")
        }
        let chunks = try stride(from: 0, to: examples.count, by: 5).flatMap {
            try logitBits(wide, Array(examples[$0..<min($0 + 5, examples.count)]))
        }
        XCTAssertEqual(chunks, all, "chunks of 5")
    }

    /// Against the packed training forward (every sequence in one batch, several to a row): the same
    /// function with other product shapes, so other rounding. 2e-4 absolute on logits of size ~5 is
    /// ~300 ulps: two layers of float32 dot products of length 48-96, reordered.
    func testAgreesWithThePackedTrainingForward() throws {
        let model = try spreadModel(config, seed: 6)
        let examples = sequences(12, seed: 10)
        let single = try SequenceForward(model: model, maxLength: 100, logits: true).map(examples, padToken: 0) { acts, _ in
            acts.logits!.array
        }
        let layout = try BatchLayout.packed(examples, batchSize: 12, seqLen: 100, padToken: 0)
        let acts = try LlamaActivations(config: config, batchSize: 12, seqLen: 100)
        try model.forward(layout, acts)
        let v = config.vocabSize
        for span in layout.spans {
            let rows = layout.flatRange(of: span)
            for (t, row) in rows.enumerated() {
                for j in 0..<v {
                    XCTAssertEqual(single[span.example][t * v + j], acts.logits!.pointer[row * v + j], accuracy: 2e-4,
                                   "sequence \(span.example), token \(t), logit \(j)")
                }
            }
        }
    }

    /// SequenceForward's workspaces are forward-only (every layer reuses one set of buffers): a batch-1
    /// pass over them gives the bits of a pass over full training activations of the same shape (the
    /// same products on the same operands), with and without a LoRA adapter; backward refuses them.
    func testForwardOnlyActivationsGiveTheBitsOfFullOnes() throws {
        let model = try spreadModel(config, seed: 7)
        let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 8), seed: 3)
        var rng = SeededRNG(seed: 4)
        for m in adapter.allModules { rng.fillNormal(m.b, std: 0.2) }
        for example in sequences(6, seed: 11) {
            let t = example.tokens.count
            let layout = try BatchLayout.packed([example], batchSize: 1, seqLen: t, padToken: 0)
            for lora in [nil, adapter] {
                let full = try LlamaActivations(config: config, batchSize: 1, seqLen: t)
                let reused = try LlamaActivations(config: config, batchSize: 1, seqLen: t, forwardOnly: true)
                try model.forward(layout, full, adapter: lora)
                try model.forward(layout, reused, adapter: lora)
                XCTAssertEqual(bits(reused.logits!), bits(full.logits!), "\(t) tokens, adapter \(lora != nil)")
                XCTAssertEqual(bits(reused.finalHidden), bits(full.finalHidden))
                XCTAssertThrowsError(try model.backward(reused)) { XCTAssertTrue("\($0)".contains("forward only"), "\($0)") }
            }
        }
    }

    func testRefusesSequencesThatDoNotFit() throws {
        let forward = try SequenceForward(model: try spreadModel(config, seed: 7), maxLength: 8, logits: false)
        let long = try BatchLayout.Example(tokens: [Int32](repeating: 1, count: 9), targets: [Int32](repeating: 1, count: 9))
        XCTAssertThrowsError(try forward.map([long], padToken: 0) { _, _ in 0 }) { error in
            XCTAssertTrue("\(error)".contains("example 0 has 9 tokens"), "\(error)")
        }
    }
}

extension TestRandom: RandomNumberGenerator {}
