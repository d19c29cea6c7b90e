// Where a model command's weights come from (`plumb generate`, the benches): a training stage or
// Hugging Face directory, a llama2.c .bin, or random weights of a preset's shape.
import Foundation
import PlumbModel

extension StageModel {
    /// `directory` or `llama2c` when given, else `preset` initialised from `seed` with std `initStd`.
    public static func load(directory: String?, llama2c: String?, preset: LlamaPreset, seed: UInt64, initStd: Float) throws -> LlamaModel {
        if let directory { return try load(URL(fileURLWithPath: directory)) }
        if let llama2c { return try LlamaModel.load(llama2c: URL(fileURLWithPath: llama2c)) }
        let model = try LlamaModel(config: preset.config, heads: .lm)
        model.initialize(seed: seed, std: initStd)
        return model
    }
}
