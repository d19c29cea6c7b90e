import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

/// The GGUF writer and reader, and the Llama export's names, dims, types and permutation.
final class GGUFTests: XCTestCase {
    func vocabulary(_ n: Int) -> GGUFVocabulary {
        GGUFVocabulary(tokens: (0..<n).map { Array("\u{2581}t\($0)".utf8) }, scores: (0..<n).map { -Float($0) },
                       types: (0..<n).map { $0 < 3 ? 3 : 1 }, bosID: 1, eosID: 2, unkID: 0, chatTemplate: "{{ bos_token }}")
    }

    /// The byte layout of a small file written by hand against the format (METHODS.md section 14):
    /// magic, version 3, counts, one uint32 key, one tensor info, padding to 32, the data.
    func testHeaderBytesByHand() throws {
        let file = GGUFFile(metadata: [("a", .uint32(7))],
                            tensors: [GGUFTensor(name: "t", dims: [2], type: .f32, data: [0, 0, 128, 63, 0, 0, 0, 64])])
        let bytes = try GGUFWriter.encode(file).reduce(Data(), +)
        var expected: [UInt8] = Array("GGUF".utf8) + [3, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0]
        expected += [1, 0, 0, 0, 0, 0, 0, 0] + Array("a".utf8) + [4, 0, 0, 0] + [7, 0, 0, 0]          // key "a": uint32 7
        expected += [1, 0, 0, 0, 0, 0, 0, 0] + Array("t".utf8) + [1, 0, 0, 0] + [2, 0, 0, 0, 0, 0, 0, 0] // name, n_dims 1, ne0 2
        expected += [0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0]                                             // F32, offset 0
        expected += [UInt8](repeating: 0, count: 96 - expected.count)                                  // pad 75 -> 96
        expected += [0, 0, 128, 63, 0, 0, 0, 64] + [UInt8](repeating: 0, count: 24)                     // 1.0, 2.0, pad to 32
        XCTAssertEqual([UInt8](bytes), expected)
    }

    /// Every key and tensor comes back as written.
    func testRoundTrip() throws {
        let file = GGUFFile(metadata: [("s", .text("héllo")), ("u", .uint32(3)), ("i", .int32(-4)), ("f", .float32(1.5)), ("b", .bool(true)),
                                       ("l", .uint64(1 << 40)), ("sa", .stringArray([[], [0xE2, 0x96, 0x81]])), ("fa", .float32Array([1, -2])),
                                       ("ia", .int32Array([1, 6]))],
                            tensors: [GGUFTensor(name: "x", dims: [32, 2], type: .q8_0, data: [UInt8](repeating: 5, count: 68)),
                                      GGUFTensor(name: "y", dims: [3], type: .f16, data: [1, 2, 3, 4, 5, 6])])
        let back = try GGUFReader.decode([UInt8](try GGUFWriter.encode(file).reduce(Data(), +)), source: "memory")
        XCTAssertEqual(back.metadata.map(\.key), file.metadata.map(\.key))
        XCTAssertEqual(back.metadata.map(\.value), file.metadata.map(\.value))
        XCTAssertEqual(back.tensors, file.tensors)
    }

    /// A truncated file and a bad magic are refused with the offset.
    func testBadInputNamesWhere() throws {
        let bytes = [UInt8](try GGUFWriter.encode(GGUFFile(metadata: [("k", .text("v"))])).reduce(Data(), +))
        XCTAssertThrowsError(try GGUFReader.decode(Array(bytes.prefix(30)), source: "cut.gguf")) {
            XCTAssertTrue("\($0)".contains("cut.gguf"), "\($0)")
        }
        XCTAssertThrowsError(try GGUFReader.decode(Array("GGML".utf8) + bytes.dropFirst(4), source: "m.gguf")) {
            XCTAssertTrue("\($0)".contains("magic"), "\($0)")
        }
    }

    /// Q8_0 blocks: fp16 scale then 32 int8, as ggml's reference; decoding gives d * q.
    func testQ8_0Encoding() throws {
        var x = [Float](repeating: 0, count: 64)
        x[0] = 127; x[1] = -1.4; x[2] = 0.5; x[40] = -2.54
        let data = x.withUnsafeBufferPointer { GGUFEncoding.encode($0, type: .q8_0) }
        XCTAssertEqual(data.count, 68)
        XCTAssertEqual(Array(data[0..<2]), [0x00, 0x3C])   // fp16 1.0
        XCTAssertEqual(Array(data[2..<5]).map { Int8(bitPattern: $0) }, [127, -1, 1])   // 0.5 rounds away from zero
        let d2 = Float(Float16(2.54 / 127))
        XCTAssertEqual(UInt16(data[34]) | UInt16(data[35]) << 8, Float16(2.54 / 127).bitPattern)
        XCTAssertEqual(Int8(bitPattern: data[36 + 8]), -127)
        let back = GGUFEncoding.decode(data, type: .q8_0, elements: 64)
        XCTAssertEqual(back[0], 127); XCTAssertEqual(back[1], -1); XCTAssertEqual(back[40], -127 * d2)
    }

    /// The export's names, GGUF-order dims, F32 norms, q/k rows in llama.cpp's adjacent-pairs layout,
    /// and the required keys; untied head written as `output.weight`.
    func testLlamaExportLayout() throws {
        let config = LlamaPreset.stories260k.config.with { $0.tieWordEmbeddings = false }
        let model = try spreadModel(config, seed: 51)
        let tensors = try model.tensors()
        let (file, notices) = try GGUFExport.file(config: config, tensors: tensors, type: .f32, vocabulary: vocabulary(512), name: "m")
        XCTAssertTrue(notices.isEmpty)
        XCTAssertEqual(file.tensors.count, 2 + 9 * config.nLayers + 1)
        let byName = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0) })
        XCTAssertEqual(byName["token_embd.weight"]!.dims, [64, 512])
        XCTAssertEqual(byName["output.weight"]!.dims, [64, 512])
        XCTAssertEqual(byName["blk.0.ffn_down.weight"]!.dims, [172, 64])
        XCTAssertEqual(byName["blk.0.attn_k.weight"]!.dims, [64, 32])
        XCTAssertEqual(byName["blk.4.attn_norm.weight"]!.type, .f32)
        let q = GGUFEncoding.decode(byName["blk.2.attn_q.weight"]!.data, type: .f32, elements: 64 * 64)
        let pairs = try RotaryPermutation.convert(tensors[LlamaTensorNames.layer(2, .q)]!, heads: 8, from: .halves, to: .adjacentPairs)
        XCTAssertEqual(q, Array(pairs.buffer))
        let k = GGUFEncoding.decode(byName["blk.2.attn_k.weight"]!.data, type: .f32, elements: 32 * 64)
        let kPairs = try RotaryPermutation.convert(tensors[LlamaTensorNames.layer(2, .k)]!, heads: 4, from: .halves, to: .adjacentPairs)
        XCTAssertEqual(k, Array(kPairs.buffer))
        for key in ["general.architecture", "general.file_type", "llama.context_length", "llama.embedding_length", "llama.block_count",
                    "llama.feed_forward_length", "llama.rope.dimension_count", "llama.attention.head_count", "llama.attention.head_count_kv",
                    "llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base", "tokenizer.ggml.model", "tokenizer.ggml.tokens",
                    "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.chat_template"] {
            XCTAssertNotNil(file[key], key)
        }
        XCTAssertEqual(file["llama.attention.head_count_kv"]?.intValue, 4)
        XCTAssertEqual(file["llama.rope.dimension_count"]?.intValue, 8)
    }

    /// Under Q8_0, matrices whose rows do not split into blocks of 32 (260k's down_proj, rows of 172)
    /// are F16 with a notice each; the others Q8_0 with the same values as plumb's q8 decoder.
    func testQ8ExportFallsBackToF16() throws {
        let config = LlamaPreset.stories260k.config
        let model = try spreadModel(config, seed: 52)
        let (file, notices) = try GGUFExport.file(config: config, tensors: try model.tensors(), type: .q8_0, vocabulary: vocabulary(512), name: "m")
        XCTAssertEqual(notices.count, config.nLayers)
        XCTAssertTrue(notices[0].contains("blk.0.ffn_down.weight") && notices[0].contains("F16"), notices[0])
        let byName = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0) })
        XCTAssertEqual(byName["blk.0.ffn_down.weight"]!.type, .f16)
        XCTAssertEqual(byName["blk.0.ffn_up.weight"]!.type, .q8_0)
        XCTAssertEqual(byName["blk.0.ffn_norm.weight"]!.type, .f32)
        XCTAssertNil(byName["output.weight"], "a tied head is token_embd")
        XCTAssertEqual(file["general.quantization_version"]?.intValue, 2)
        let up = GGUFEncoding.decode(byName["blk.0.ffn_up.weight"]!.data, type: .q8_0, elements: 172 * 64)
        let q8 = try Q8Matrix(quantising: model.weights.layers[0].up)
        XCTAssertEqual(up, (0..<172).flatMap { q8.dequantisedRow($0) })
        XCTAssertThrowsError(try GGUFExport.file(config: config, tensors: try model.tensors(), type: .f32, vocabulary: vocabulary(100), name: "m")) {
            XCTAssertTrue("\($0)".contains("100 pieces") && "\($0)".contains("512"), "\($0)")
        }
    }
}
