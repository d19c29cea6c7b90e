import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

/// Golden greedy output of a checkpoint the test builds deterministically (260k shape: GQA 8/4 heads,
/// tied head, vocab 512; weights uniform in [-0.5, 0.5) from TestRandom(2024), norm gains 1).
///
/// The expected tokens were NOT produced by Plumbline: they are what llama2.c's run.c printed for
/// the same weights, exported with Llama2cFormat (adjacent-pairs rotary layout), so the test checks
/// the model, the rotary permutation and the exporter against an independent implementation:
///   PLUMB_GOLDEN_EXPORT=/tmp/golden260k.bin swift test --filter GoldenGreedyTests   (writes the .bin)
///   gcc -Ofast -march=native -fopenmp run.c -o run -lm
///   OMP_NUM_THREADS=2 ./run /tmp/golden260k.bin -z tok512.bin -t 0 -n 64 -i ""
/// with a tokenizer.bin whose piece i is "[i]" (format of run.c build_tokenizer), so the printed
/// pieces read back as ids. run.c starts from BOS (1), stops at BOS, feeds positions 0..<64 and
/// prints the token sampled after each, so we decode 64 new tokens (context 65).
final class GoldenGreedyTests: XCTestCase {
    /// run.c's output (64 tokens: it samples once per position 0..<64).
    static let runCTokens: [Int32] = [
        456, 18, 303, 181, 445, 79, 90, 364, 367, 367, 9, 110, 126, 89, 234, 483,
        12, 6, 501, 36, 369, 264, 120, 269, 325, 62, 510, 340, 290, 234, 350, 342,
        369, 44, 93, 63, 416, 445, 173, 508, 254, 151, 173, 24, 457, 298, 63, 173,
        508, 87, 445, 392, 325, 156, 165, 65, 243, 41, 454, 189, 243, 185, 175, 374,
    ]

    func goldenModel() throws -> LlamaModel {
        let config = LlamaPreset.stories260k.config
        var tensors = randomTensors(config, heads: .lm, seed: 2024)
        for name in tensors.keys where tensors[name]!.rank == 1 { tensors[name] = Tensor(shape: [config.dim], repeating: 1) }
        let model = try LlamaModel(config: config, heads: .lm)
        try model.load(tensors, source: "golden")
        return model
    }

    func testGreedyMatchesRunC() throws {
        let model = try goldenModel()
        if let path = ProcessInfo.processInfo.environment["PLUMB_GOLDEN_EXPORT"] {
            try model.exportLlama2c(to: URL(fileURLWithPath: path))
        }
        let generator = try Generator(config: model.config, weights: model.weights, maxSequences: 1, capacity: 65)
        let out = try generator.generate([GenerationRequest(prompt: [1])], options: GenerationOptions(maxNewTokens: 64, stopTokens: [1]))
        print("golden greedy tokens: \(out[0].tokens)")
        XCTAssertEqual(out[0].tokens, Self.runCTokens)
    }
}
