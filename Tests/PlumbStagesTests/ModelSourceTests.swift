// `--model` of the model commands (generate, bench) takes a training stage directory, whose weights
// are stored zstd-compressed, as well as a plain Hugging Face directory; both give the same weights.
import Foundation
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

final class ModelSourceTests: XCTestCase {
    func testStageAndHuggingFaceDirectoriesLoadTheSameWeights() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("model-source-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 96, maxSeqLen: 32)
        let original = try LlamaModel(config: config, heads: .lm, seed: 7)
        let stage = try StageWriter.begin(runsRoot: root, run: "r", stage: "sft", kind: "sft", config: ["test": true])
        try StageModel.save(original, to: stage)
        try stage.complete()
        let plain = root.appendingPathComponent("hf")
        try original.save(to: plain)

        func weights(_ directory: URL) throws -> [Float] {
            let m = try StageModel.load(directory: directory.path, llama2c: nil, preset: .tiny, seed: 0, initStd: 0.02)
            return Array(UnsafeBufferPointer(start: m.parameters.values.base, count: m.parameters.totalCount))
        }
        let expected = Array(UnsafeBufferPointer(start: original.parameters.values.base, count: original.parameters.totalCount))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("r/sft/model.safetensors").path),
                       "the stage keeps only the compressed weights")
        XCTAssertEqual(try weights(root.appendingPathComponent("r/sft")), expected, "stage directory, bit for bit")
        XCTAssertEqual(try weights(plain), expected, "Hugging Face directory, bit for bit")
    }
}
