// A LoRA adapter named on the command line (a LoRA training stage or a PEFT directory) with its base:
// the one its adapter_config.json names (`base_model_name_or_path`), or another given, which must
// have the recorded checksum (`plumb export merge|adapter`).
import Foundation
import PlumbModel

extension StageModel {
    /// The adapter at `path` with its base (`base` when given, else the one its config names).
    public static func loadAdapter(_ path: String, base: String?) throws -> (LlamaModel, LoRAAdapter) {
        let directory = URL(fileURLWithPath: path)
        guard holdsAdapter(directory) else {
            throw StageError("\(path) holds no adapter (no adapter_config.json)\nHINT: give a LoRA training stage or a PEFT directory")
        }
        guard let base else { return try loadAdapter(directory) }
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(PEFTAdapterFormat.weightsFile).path) else {
            throw StageError("\(path): a stage's adapter loads with the base it records\nHINT: drop --base, or give a PEFT directory")
        }
        let model = try load(URL(fileURLWithPath: base))
        return (model, try PEFTAdapterFormat.load(directory, base: model, baseSource: base))
    }
}
