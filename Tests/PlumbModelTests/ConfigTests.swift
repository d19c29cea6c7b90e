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
