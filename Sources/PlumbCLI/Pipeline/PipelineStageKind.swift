// The stage kinds a pipeline file may name. A kind of the stage registry runs as a value
// (`StageInvocation`: parameters decoded from the options, inputs by slot, no command line). The
// others (`import`) are `plumb` commands: how each is told where to write (the stage's directory)
// and which input, if any, is its positional argument.
import Foundation
import PlumbEval
import PlumbStages

struct PipelineStageKind {
    enum Output {
        /// `--out STAGE_DIR`.
        case directory
        /// Run by the runner itself, as a value (`StageInvocation`).
        case value(any Stage.Type)
    }

    var name: String
    var command: [String]
    var output: Output
    /// The input passed as the command's positional argument rather than as `--NAME`.
    var positionalInput: String?
    /// The one file a reference to the whole stage means, when not its directory (the tokenizer's
    /// model, a config file, an annotation export).
    var mainFile: String?

    /// The kinds that still run as commands (their options are command-line flags).
    static let commands: [PipelineStageKind] = [
        PipelineStageKind(name: "import", command: ["import"], output: .directory, positionalInput: "file"),
    ]

    /// A kind of `registry` (run as a value), else one of the table (run as a command).
    static func named(_ name: String, registry: StageRegistry = .standard) -> PipelineStageKind? {
        if let stage = registry.stage(StageKind(name)) {
            return PipelineStageKind(name: name, command: [], output: .value(stage), mainFile: stage.mainFile)
        }
        return commands.first { $0.name == name }
    }

    /// Every kind's name, for messages.
    static func names(registry: StageRegistry = .standard) -> [String] {
        Array(Set(registry.kinds.map(\.name) + commands.map(\.name))).sorted()
    }

    /// The stage a value kind runs.
    var stage: (any Stage.Type)? {
        if case .value(let stage) = output { return stage }
        return nil
    }

    /// The command-line arguments that tell the command to write into the stage directory `stage`
    /// (a path relative to the working directory).
    func outputArguments(_ stage: String) -> [String] {
        switch output {
        case .directory: return ["--out", stage]
        case .value: return []
        }
    }
}
