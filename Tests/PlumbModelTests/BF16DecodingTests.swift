// Decoding on a bf16 base (DecodeWeights over BF16Matrix, MatVec.BF16): the cached decoder's logits
// equal, bit for bit, its logits on an fp32 model holding the bf16-rounded weights (prefill of 7 rows
// and single tokens, both through the matrix-vector kernels), with and without an adapter, and under
// q8 (quantised from the widened weights); and they are not the unrounded model's.
import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

final class BF16DecodingTests: XCTestCase {
    let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 24 }
    let tokens: [Int32] = (0..<20).map { Int32(($0 * 37 + 5) % 512) }

    func decodedLogits(_ weights: LlamaWeights, adapter: LoRAAdapter?, format: DecodeWeightFormat) throws -> [UInt32] {
        bits(try cachedDecoderLogits(config, weights, tokens: tokens, adapter: adapter, format: format))
    }

    func testDecodingOnBF16BaseEqualsDecodingTheRoundedWeights() throws {
        let fp32 = try spreadModel(config, seed: 11)
        let bf16 = try LlamaModel.bf16(rounding: fp32)
        let rounded = try LlamaModel(config: config, heads: .lm)
        try rounded.load(try bf16.tensors(), source: "the bf16 base widened")
        let adapter = try LoRAAdapter(config: config, settings: LoRASettings(rank: 4, alpha: 12), seed: 3)
        var rng = SeededRNG(seed: 4)
        for m in adapter.allModules { rng.fillNormal(m.b, std: 0.1) }
        for format in DecodeWeightFormat.allCases {
            for a in [nil, adapter] {
                let onBF16 = try decodedLogits(bf16.weights, adapter: a, format: format)
                XCTAssertEqual(onBF16, try decodedLogits(rounded.weights, adapter: a, format: format), "\(format) adapter \(a != nil)")
                XCTAssertNotEqual(onBF16, try decodedLogits(fp32.weights, adapter: a, format: format))
            }
        }
        let decode = try DecodeWeights(bf16.weights, format: .f32)
        guard case .bf16 = decode.layers[0].gate else { return XCTFail("a bf16 base decodes from its bf16 matrices") }
    }
}
