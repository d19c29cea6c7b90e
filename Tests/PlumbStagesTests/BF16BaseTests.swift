// A frozen base held in bf16 (Sources/PlumbModel/BF16Base.swift): a pass on it equals, bit for bit,
// the fp32 code's pass on the bf16-rounded weights (the same products on the same fp32 operands),
// forward and backward, with and without an adapter, in a packed training batch and in the
// batch-invariant one-sequence passes; LoRA's gradients through it against central differences; it
// holds no gradient and no optimiser state and is not changed by training; its checksum tells it from
// the fp32 base, and an adapter records the dtype it was trained on.
import Foundation
import PlumbModel
import PlumbTensor
import XCTest

final class BF16BaseTests: XCTestCase {
    /// dim 16, hidden 40, 2 layers, 4 heads (head_dim 4), 2 kv heads, vocab 32.
    let config = LlamaPreset.tiny.config

    /// An fp32 base with well-spread logits (weights N(0, 0.3)), frozen.
    func fp32Base(seed: UInt64 = 11) throws -> LlamaModel {
        let model = try LlamaModel(config: config, heads: .lm, seed: seed)
        model.initialize(seed: seed, std: 0.3)
        model.parameters.releaseGradients()
        return model
    }

    /// The fp32 model holding the values a bf16 base computes with (its projections widened).
    func roundedFP32(_ bf16: LlamaModel) throws -> LlamaModel {
        let model = try LlamaModel(config: bf16.config, heads: bf16.heads, gradients: false)
        try model.load(try bf16.tensors(), source: "the bf16 base widened")
        return model
    }

    func trainedAdapter(seed: UInt64 = 12) throws -> LoRAAdapter {
        try LoRAFixture.trainedAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 12), seed: seed)
    }

    func batch() throws -> BatchLayout { try LoRAFixture.packedBatch() }

    func bits(_ t: Tensor) -> [UInt32] { t.array.map(\.bitPattern) }

    /// Logits, the loss and the adapter's gradients on the bf16 base equal those of the fp32 code on
    /// the rounded weights bit for bit; they differ from the unrounded fp32 base's (so the test could fail).
    func testPassOnBF16BaseEqualsFP32PassOnRoundedWeightsBitForBit() throws {
        let fp32 = try fp32Base(), bf16 = try LlamaModel.bf16(rounding: fp32), rounded = try roundedFP32(bf16)
        XCTAssertEqual(bf16.baseDType, .bf16)
        let b = try batch()
        for withAdapter in [false, true] {
            let adapter = withAdapter ? try trainedAdapter() : nil
            func run(_ model: LlamaModel) throws -> (logits: [UInt32], loss: Float, grads: [UInt32]) {
                let acts = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
                adapter?.parameters.zeroGrad()
                try model.forward(b, acts, adapter: adapter)
                let logits = bits(acts.logits!)
                let loss = try model.languageModelLoss(acts).loss
                try model.backward(acts)
                let grads = adapter.map { Array(UnsafeBufferPointer(start: $0.parameters.gradients.base, count: $0.parameters.totalCount)).map(\.bitPattern) } ?? []
                return (logits, loss, grads)
            }
            let (onBF16, onRounded, onFP32) = (try run(bf16), try run(rounded), try run(fp32))
            XCTAssertEqual(onBF16.logits, onRounded.logits, "adapter \(withAdapter)")
            XCTAssertEqual(onBF16.loss.bitPattern, onRounded.loss.bitPattern)
            XCTAssertEqual(onBF16.grads, onRounded.grads)
            XCTAssertNotEqual(onBF16.logits, onFP32.logits)
            if withAdapter { XCTAssertTrue(onBF16.grads.contains { $0 != 0 }) }
        }
        // Each rounded weight is within half a bf16 ulp: |w - bf16(w)| <= 2^-8 |w| (8 significant bits).
        let record = bf16.bf16Rounding!
        XCTAssertEqual(record.sourceSHA256, try BaseChecksum.of(fp32))
        XCTAssertGreaterThan(record.maxAbsDifference, 0)
        XCTAssertLessThanOrEqual(record.relativeRMSDifference, 0x1p-8)
        for (name, t) in try fp32.tensors() {
            let w = try bf16.value(name)
            for i in 0..<t.count { XCTAssertLessThanOrEqual(abs(w.pointer[i] - t.pointer[i]), 0x1p-8 * abs(t.pointer[i]), name) }
        }
    }

    /// The one-sequence passes (SequenceForward, one workspace per pool thread, each with its own
    /// widened block) give each sequence the bits of the fp32 code on the rounded weights, alone or
    /// beside others.
    func testSequencePassesOnBF16BaseAreBatchInvariant() throws {
        let bf16 = try LlamaModel.bf16(rounding: try fp32Base()), rounded = try roundedFP32(bf16), adapter = try trainedAdapter()
        let examples = try [[1, 5, 9, 3, 7], [2, 4, 4, 8], [3, 2, 30, 31, 6, 11, 12], [9, 9, 1]].map { (t: [Int32]) in
            try BatchLayout.Example(tokens: t, targets: Array(t.dropFirst()) + [CrossEntropy.ignoreIndex])
        }
        func logits(_ model: LlamaModel, _ list: [BatchLayout.Example]) throws -> [[UInt32]] {
            try SequenceForward(model: model, maxLength: 10, logits: true, adapter: adapter).map(list, padToken: 0) { acts, _ in self.bits(acts.logits!) }
        }
        let together = try logits(bf16, examples)
        XCTAssertEqual(together, try logits(rounded, examples))
        for (i, e) in examples.enumerated() { XCTAssertEqual(try logits(bf16, [e])[0], together[i], "example \(i)") }
    }

    func testLoRAGradientsThroughBF16BaseMatchCentralDifferences() throws {
        let bf16 = try LlamaModel.bf16(rounding: try fp32Base())
        let adapter = try trainedAdapter(), b = try batch(), acts = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        func loss() throws -> Double {
            try bf16.forward(b, acts, adapter: adapter)
            return Double(try bf16.languageModelLoss(acts, backward: false).loss)
        }
        adapter.parameters.zeroGrad()
        try bf16.forward(b, acts, adapter: adapter)
        try bf16.languageModelLoss(acts)
        try bf16.backward(acts)
        let g = adapter.parameters.gradients.base
        let largest = adapter.parameters.entries.map { e in (e.offset..<e.offset + e.count).max { abs(g[$0]) < abs(g[$1]) }! }
        try assertGradientMatchesCentralDifferences(adapter.parameters, "LoRA on a bf16 base", elements: largest) { try loss() }
        try assertGradientMatchesCentralDifferences(adapter.parameters, "LoRA on a bf16 base, largest") { try loss() }
    }

    /// No gradient arena, no moments, and 30 AdamW steps on the adapter leave every bf16 bit of the base.
    func testBF16BaseTakesNoGradientAndNoOptimiserState() throws {
        XCTAssertThrowsError(try LlamaModel(config: config, heads: .lm, gradients: true, baseDType: .bf16)) { error in
            XCTAssertTrue("\(error)".contains("frozen"), "\(error)")
        }
        let fp32 = try fp32Base(), bf16 = try LlamaModel.bf16(rounding: fp32)
        XCTAssertEqual(bf16.parameters.gradients.count, 0)
        let projections = config.nLayers * [LlamaTensorNames.LayerTensor.q, .k, .v, .o, .gate, .up, .down].reduce(0) { $0 + $1.shape(config).reduce(1, *) }
        XCTAssertEqual(bf16.parameters.totalCount, fp32.parameters.totalCount - projections)
        XCTAssertEqual(bf16.weightCount, fp32.weightCount)
        XCTAssertEqual(bf16.weightBytes, fp32.weightBytes - 2 * projections)
        func baseBits() throws -> [UInt32] {
            try bf16.tensors().sorted { $0.key < $1.key }.flatMap { self.bits($0.value) }
        }
        let before = try baseBits()
        let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 8), seed: 3)
        let optimizer = AdamW(parameters: adapter.parameters, config: AdamWConfig(weightDecay: 0))
        XCTAssertEqual(adapter.optimizerBytes, 8 * adapter.parameters.totalCount)
        let b = try batch(), acts = try LlamaActivations(config: config, batchSize: 2, seqLen: 10)
        var losses: [Float] = []
        for _ in 0..<30 {
            adapter.parameters.zeroGrad()
            try bf16.forward(b, acts, adapter: adapter)
            losses.append(try bf16.languageModelLoss(acts).loss)
            try bf16.backward(acts)
            try optimizer.update(adapter.parameters, learningRate: 2e-2)
        }
        XCTAssertLessThan(losses.last!, 0.5 * losses.first!, "losses \(losses)")
        XCTAssertEqual(try baseBits(), before)
        XCTAssertThrowsError(try adapter.merge(into: bf16))   // its projections cannot take a merge
    }

    /// The checksum of a bf16 base is that of its values (so it differs from the fp32 base's); an
    /// adapter saved on it records bf16, loads on it, loads on its fp32 source (with a warning) and is
    /// refused on another base naming both checksums.
    func testAdapterRecordsTheBaseDType() throws {
        let fp32 = try fp32Base(), bf16 = try LlamaModel.bf16(rounding: fp32), rounded = try roundedFP32(bf16)
        XCTAssertNotEqual(try BaseChecksum.of(bf16), try BaseChecksum.of(fp32))
        XCTAssertEqual(try BaseChecksum.of(bf16), try BaseChecksum.of(rounded))
        let adapter = try trainedAdapter()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bf16-adapter-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try PEFTAdapterFormat.save(adapter, base: bf16, baseName: nil, to: dir)
        let metadata = try SafeTensors.read(dir.appendingPathComponent(PEFTAdapterFormat.weightsFile)).metadata
        XCTAssertEqual(metadata["plumb.base_dtype"], "bf16")
        XCTAssertEqual(metadata["plumb.base_rounded_from_sha256"], try BaseChecksum.of(fp32))
        for base in [bf16, fp32] {
            let loaded = try PEFTAdapterFormat.load(dir, base: base, baseSource: "base")
            XCTAssertEqual(bits(loaded.allModules[0].b), bits(adapter.allModules[0].b))
        }
        XCTAssertThrowsError(try PEFTAdapterFormat.load(dir, base: try fp32Base(seed: 99), baseSource: "another base")) { error in
            XCTAssertTrue("\(error)".contains(try! BaseChecksum.of(bf16)), "\(error)")
        }
        // An adapter trained on the fp32 base loads on its bf16 rounding (e.g. reward adapters under `ppo` with base=bf16).
        let fp32Dir = dir.appendingPathComponent("fp32")
        try PEFTAdapterFormat.save(adapter, base: fp32, baseName: nil, to: fp32Dir)
        XCTAssertEqual(try SafeTensors.read(fp32Dir.appendingPathComponent(PEFTAdapterFormat.weightsFile)).metadata["plumb.base_dtype"], "fp32")
        XCTAssertNoThrow(try PEFTAdapterFormat.load(fp32Dir, base: bf16, baseSource: "the bf16 rounding"))
        XCTAssertThrowsError(try PEFTAdapterFormat.load(fp32Dir, base: rounded, baseSource: "a plain fp32 copy of the rounding"))
        // The settings' `base` key: text and PEFT-style keys; not written into adapter_config.json.
        XCTAssertEqual(try LoRASettings(parsing: "rank=4 base=bf16").baseDType, .bf16)
        XCTAssertThrowsError(try LoRASettings(parsing: "base=fp16")) { XCTAssertTrue("\($0)".contains("fp32 or bf16"), "\($0)") }
        let config = try String(contentsOf: dir.appendingPathComponent(PEFTAdapterFormat.configFile), encoding: .utf8)
        XCTAssertFalse(config.contains("\"base\""))
    }
}
