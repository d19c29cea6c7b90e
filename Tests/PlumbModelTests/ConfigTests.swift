import Foundation
import XCTest
@testable import PlumbModel

final class ConfigTests: XCTestCase {
    func testHuggingFaceConfigDecodesWithDefaults() throws {
        let json = #"{"model_type": "llama", "hidden_size": 288, "num_hidden_layers": 6, "num_attention_heads": 6,"# +
            #" "vocab_size": 32000, "intermediate_size": 768, "max_position_embeddings": 256, "torch_dtype": "float32"}"#
        let config = try JSONDecoder().decode(LlamaConfigFile.self, from: Data(json.utf8)).resolved()
        XCTAssertEqual(config, LlamaPreset.stories15m.config.with { $0.tieWordEmbeddings = false })
        XCTAssertEqual(config.nKVHeads, 6, "num_key_value_heads defaults to num_attention_heads")
        XCTAssertEqual(config.rotaryLayout, .halves)
    }

    func testFileRoundTrip() throws {
        for preset in LlamaPreset.allCases {
            let config = preset.config
            let back = try JSONDecoder().decode(LlamaConfigFile.self, from: try config.jsonData()).resolved()
            XCTAssertEqual(back, config, "\(preset)")
        }
    }

    func testValidationNamesTheField() {
        let json = #"{"hidden_size": 30, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 10}"#
        XCTAssertThrowsError(try JSONDecoder().decode(LlamaConfigFile.self, from: Data(json.utf8)).resolved()) { error in
            XCTAssertTrue("\(error)".contains("hidden_size 30 is not divisible by num_attention_heads 4"), "\(error)")
        }
        let missing = #"{"hidden_size": 32, "num_attention_heads": 4, "vocab_size": 10}"#
        XCTAssertThrowsError(try JSONDecoder().decode(LlamaConfigFile.self, from: Data(missing.utf8)).resolved()) { error in
            XCTAssertTrue("\(error)".contains("num_hidden_layers"), "\(error)")
        }
        var gqa = LlamaPreset.tiny.config
        gqa.nKVHeads = 3
        XCTAssertThrowsError(try gqa.validate()) { XCTAssertTrue("\($0)".contains("num_key_value_heads 3"), "\($0)") }
    }

    func testPresetShapes() throws {
        let c = LlamaPreset.stories260k.config
        XCTAssertEqual([c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKVHeads, c.vocabSize, c.maxSeqLen], [64, 172, 5, 8, 4, 512, 512])
        for preset in LlamaPreset.allCases { XCTAssertNoThrow(try preset.config.validate()) }
    }
}

extension LlamaConfig {
    func with(_ change: (inout LlamaConfig) -> Void) -> LlamaConfig {
        var c = self
        change(&c)
        return c
    }
}

/// Keys of Hugging Face's LlamaConfig that change the computation and are not implemented are refused,
/// naming the key and the file; `eos_token_id` may be a list.
final class ConfigKeyTests: XCTestCase {
    let base = #""hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 64"#

    func decode(_ extra: String) throws -> LlamaConfig {
        try LlamaConfigFile.decode(Data("{\(base)\(extra.isEmpty ? "" : ", " + extra)}".utf8), source: "/m/config.json").resolved()
    }

    func testKeysThatChangeTheMathAreRefusedByName() {
        let refused: [(String, String)] = [
            (#""rope_scaling": {"rope_type": "llama3", "factor": 8.0}"#, "'rope_scaling' is set (rope_type 'llama3')"),
            (#""rope_scaling": {"type": "linear", "factor": 2.0}"#, "'rope_scaling' is set (type 'linear')"),
            (#""rope_parameters": {"rope_type": "yarn", "rope_theta": 10000}"#, "'rope_parameters' is rope_type 'yarn'"),
            (#""attention_bias": true"#, "'attention_bias' is true"),
            (#""mlp_bias": true"#, "'mlp_bias' is true"),
            (#""head_dim": 16"#, "'head_dim' is 16, which is not implemented; the head dimension is hidden_size / num_attention_heads = 8"),
            (#""hidden_act": "gelu""#, "'hidden_act' is 'gelu'"),
            (#""attention_dropout": 0.1"#, "'attention_dropout' is 0.1"),
            (#""quantization_config": {"quant_method": "gptq", "bits": 4}"#, "'quantization_config' is set (quant_method 'gptq')"),
            (#""eos_token_id": []"#, "'eos_token_id' is an empty list"),
        ]
        for (extra, expected) in refused {
            XCTAssertThrowsError(try decode(extra), extra) { error in
                XCTAssertTrue("\(error)".hasPrefix("/m/config.json: "), "names the file: \(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(extra): \(error)")
            }
        }
    }

    func testValuesThatMeanTheImplementedMathAreAccepted() throws {
        let plain = try decode("")
        let accepted = [#""rope_scaling": null"#, #""attention_bias": false"#, #""mlp_bias": false"#, #""head_dim": 8"#,
                        #""hidden_act": "silu""#, #""attention_dropout": 0.0"#, #""pretraining_tp": 1"#, #""quantization_config": null"#,
                        #""rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}"#]
        for extra in accepted { XCTAssertEqual(try decode(extra), plain, extra) }
        XCTAssertEqual(try decode(#""rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}"#).ropeTheta, 500_000,
                       "rope_theta inside rope_parameters (transformers 5) is read")
    }

    func testEOSTokenIdMayBeAList() throws {
        XCTAssertEqual(try decode("").eosTokenIds, [2])
        XCTAssertEqual(try decode(#""eos_token_id": 7"#).eosTokenIds, [7])
        let config = try decode(#""eos_token_id": [60, 61, 63]"#)
        XCTAssertEqual(config.eosTokenIds, [60, 61, 63])
        // Written back as a list, a single id as a number (as before).
        let back = try JSONDecoder().decode(LlamaConfigFile.self, from: try config.jsonData()).resolved()
        XCTAssertEqual(back.eosTokenIds, [60, 61, 63])
        XCTAssertTrue(String(decoding: try LlamaPreset.tiny.config.jsonData(), as: UTF8.self).contains(#""eos_token_id" : 2"#))
    }

    func testLoadNamesTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        try Data("{\(base), \"attention_bias\": true}".utf8).write(to: url)
        XCTAssertThrowsError(try LlamaConfig.load(url)) { error in
            XCTAssertTrue("\(error)".hasPrefix(url.path + ": ") && "\(error)".contains("'attention_bias'"), "\(error)")
        }
    }
}
