// The stage kinds a pipeline file may name: each is a `plumb` command, how it is told where to
// write (the stage's directory) and which input, if any,
// is its positional argument. `model-config` is the one kind run by the runner itself: it writes its
// options as a Hugging Face config.json.
import Foundation

struct PipelineStageKind {
    enum Output {
        /// `--out STAGE_DIR`.
        case directory
        /// Run by the runner itself.
        case builtIn
    }

    var name: String
    var command: [String]
    var output: Output
    /// The input passed as the command's positional argument rather than as `--NAME`.
    var positionalInput: String?
    /// The one file a reference to the whole stage means, when not its directory (the tokenizer's
    /// model, a config file, an annotation export).
    var mainFile: String?

    static let all: [PipelineStageKind] = [
        PipelineStageKind(name: "task generate", command: ["task", "generate"], output: .directory),
        PipelineStageKind(name: "task month", command: ["task", "month"], output: .directory),
        PipelineStageKind(name: "task annotate", command: ["task", "annotate"], output: .directory, mainFile: "annotations.json"),
        PipelineStageKind(name: "task annotate comparisons", command: ["task", "annotate", "--as", "comparisons"],
                          output: .directory, mainFile: "comparisons.jsonl"),
        PipelineStageKind(name: "tokenizer train", command: ["tokenizer", "train"], output: .directory, mainFile: "spm.model"),
        PipelineStageKind(name: "model-config", command: [], output: .builtIn, mainFile: "config.json"),
        PipelineStageKind(name: "import", command: ["import"], output: .directory, positionalInput: "file"),
        PipelineStageKind(name: "pretrain", command: ["pretrain"], output: .directory),
        PipelineStageKind(name: "sft", command: ["sft"], output: .directory),
        PipelineStageKind(name: "rm train", command: ["rm", "train"], output: .directory),
        PipelineStageKind(name: "rm eval", command: ["rm", "eval"], output: .directory),
        PipelineStageKind(name: "rm score", command: ["rm", "score"], output: .directory),
        PipelineStageKind(name: "rs", command: ["rs"], output: .directory),
        PipelineStageKind(name: "rs-merge", command: ["rs-merge"], output: .directory),
        PipelineStageKind(name: "dpo", command: ["dpo"], output: .directory),
        PipelineStageKind(name: "ppo", command: ["ppo"], output: .directory),
        PipelineStageKind(name: "eval oracle", command: ["eval", "oracle"], output: .directory),
    ]

    static func named(_ name: String) -> PipelineStageKind? { all.first { $0.name == name } }

    /// The command-line arguments that tell the command to write into the stage directory `stage`
    /// (a path relative to the working directory).
    func outputArguments(_ stage: String) -> [String] {
        switch output {
        case .directory: return ["--out", stage]
        case .builtIn: return []
        }
    }
}
