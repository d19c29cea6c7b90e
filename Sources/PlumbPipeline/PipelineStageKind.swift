// The stage kinds a pipeline file may name: the kinds of the stage registry, each run as a value
// (`StageInvocation`: parameters decoded from the options, inputs by slot, no command line).
import Foundation
import PlumbStages

public struct PipelineStageKind {
    public var name: String
    public var stage: any Stage.Type
    /// The one file a reference to the whole stage means, when not its directory (the tokenizer's
    /// model, a config file, an annotation export).
    var mainFile: String? { stage.mainFile }

    /// The kind of `registry` named `name`.
    static func named(_ name: String, registry: StageRegistry) -> PipelineStageKind? {
        registry.stage(StageKind(name)).map { PipelineStageKind(name: name, stage: $0) }
    }

    /// Every kind's name, for messages.
    static func names(registry: StageRegistry) -> [String] { registry.kinds.map(\.name).sorted() }
}
