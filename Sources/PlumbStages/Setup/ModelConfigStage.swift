// `model-config`: a Hugging Face config.json written from its keys (hidden_size, num_hidden_layers,
// ...), for `pretrain`'s `config` input. The parameters are the config file itself.
import Foundation
import PlumbModel
import PlumbStore

extension StageKind {
    public static let modelConfig: StageKind = "model-config"
}

extension LlamaConfigFile: StageParameters {}

public enum ModelConfigStage: Stage {
    public typealias Parameters = LlamaConfigFile
    public static let kind = StageKind.modelConfig
    public static let abstract = "Write a Hugging Face config.json for a fresh model (pretrain's config input)."
    public static let mainFile: String? = LlamaCheckpoint.configFile
    public static let slots: [InputSlot] = []

    /// Nothing to measure: the file is the result.
    public struct Summary: StageSummary {
        public var metrics: [String: Double] { [:] }
    }

    public static func prepare(_ parameters: LlamaConfigFile, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Void> {
        Prepared((), files: [])
    }

    /// The config as canonical JSON (sorted keys, no white space).
    public static func execute(_ loaded: Void, parameters: LlamaConfigFile, stage: StageContext) throws -> Summary {
        try JSONValue(encoding: parameters).canonicalJSON().write(to: stage.directory.appendingPathComponent(LlamaCheckpoint.configFile),
                                                                  options: .atomic)
        try stage.recordWrittenFiles()
        return Summary()
    }
}
