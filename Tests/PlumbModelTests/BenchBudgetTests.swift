// The benches' shape and memory checks: the presets' parameter counts against the published ones, the
// activation estimate against the tensors LlamaActivations really allocates, and both refusals (no large
// allocation: the memory limit is passed in).
import PlumbTensor
import XCTest
@testable import PlumbModel

final class BenchBudgetTests: XCTestCase {
    func testPresetParameterCountsMatchThePublishedModels() {
        // TinyLlama-1.1B: 1,100,048,384 parameters (the Hugging Face checkpoint's count: embeddings and
        // head 2 x 32000 x 2048, 22 x (q, o 2048^2; k, v 2048 x 256; 3 x 2048 x 5632; two norms), final norm).
        XCTAssertEqual(BenchBudget.parameterCount(LlamaPreset.tinyLlama1b.config), 1_100_048_384)
        // stories110M: 32000 x 768 tied + 12 x (4 x 768^2 + 3 x 768 x 2048 + 2 x 768) + 768 = 109,529,856.
        XCTAssertEqual(BenchBudget.parameterCount(LlamaPreset.stories110m.config), 109_529_856)
        XCTAssertEqual(LlamaPreset.tinyLlama1b.config.kvDim, 256, "4 KV heads of 64")
    }

    func testParameterCountIsWhatTheModelAllocates() throws {
        for heads: LlamaHeads in [.lm, [.lm, .value]] {
            let model = try LlamaModel(config: LlamaPreset.tiny.config.with { $0.tieWordEmbeddings = false }, heads: heads)
            XCTAssertEqual(BenchBudget.parameterCount(model.config, heads: heads), model.parameters.totalCount)
        }
    }

    func testActivationEstimateIsEveryFloatLlamaActivationsAllocates() throws {
        let config = LlamaPreset.tiny.config   // GQA (4 heads, 2 KV heads), so q and kv widths differ
        let acts = try LlamaActivations(config: config, batchSize: 3, seqLen: 7)
        XCTAssertEqual(BenchBudget.activationFloats(config, batchSize: 3, seqLen: 7), Self.floats(in: acts))
        _ = acts.dLogits   // the per-token log-prob gradient, allocated on first use
        XCTAssertEqual(BenchBudget.activationFloats(config, batchSize: 3, seqLen: 7, tokenLogProbGradient: true), Self.floats(in: acts))
    }

    func testSequenceBeyondTheRotaryTableIsRefused() throws {
        XCTAssertEqual(try BenchBudget.config(.stories110m, seqLen: 2048).maxSeqLen, 2048, "widened up to the benches' table")
        XCTAssertEqual(try BenchBudget.config(.stories15m, seqLen: 128).maxSeqLen, 256, "never narrowed")
        XCTAssertThrowsError(try BenchBudget.config(.tinyLlama1b, seqLen: 2049)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("--seq-len 2049") && message.contains("2048 positions") && message.contains("preset 1b"), message)
        }
    }

    func testBatchAboveAvailableMemoryIsRefusedWithBothFigures() throws {
        let config = LlamaPreset.tinyLlama1b.config
        let bytes = BenchBudget.trainingBytes(config, batchSize: 1, seqLen: 128)
        XCTAssertGreaterThan(bytes, 16 * 1_100_048_384, "weights, gradients and two moments alone are 17.6 GB")
        XCTAssertThrowsError(try BenchBudget.checkFits("bench train --preset 1b", bytes: bytes, available: 8 << 30)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("bench train --preset 1b") && message.contains("\(bytes) bytes")
                          && message.contains("\(8 << 30) bytes") && message.contains("MemAvailable"), message)
        }
        XCTAssertNoThrow(try BenchBudget.checkFits("fits", bytes: bytes, available: bytes))
        XCTAssertNoThrow(try BenchBudget.checkFits("unknown limit", bytes: bytes, available: nil))
    }

    func testMemAvailableIsReadFromMeminfo() {
        let meminfo = "MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   22259316 kB\n"
        XCTAssertEqual(BenchBudget.memAvailableBytes(meminfo: meminfo), 22_259_316 * 1024)
        XCTAssertNil(BenchBudget.memAvailableBytes(meminfo: "MemTotal: 1 kB\n"))
        XCTAssertNil(BenchBudget.memAvailableBytes(meminfo: "MemAvailable: many kB\n"))
        XCTAssertNotNil(BenchBudget.memAvailableBytes(), "this Linux machine has /proc/meminfo")
    }

    /// Floats in every Tensor reachable from `value`'s stored properties (arrays, structs, optionals).
    static func floats(in value: Any) -> Int {
        if let t = value as? Tensor { return t.count }
        return Mirror(reflecting: value).children.reduce(0) { $0 + floats(in: $1.value) }
    }
}
