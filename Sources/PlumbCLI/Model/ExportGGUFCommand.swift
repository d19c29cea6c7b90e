// `plumb export ...`: a model for other runtimes. `plumb export gguf SOURCE --tokenizer FILE --type
// f32|f16|q8_0 --out FILE.gguf [--force]` parses its flags for GGUFModelExport (PlumbStages) and
// prints its report; `export chat-ids` prints plumb's prompt ids of conversations.
import ArgumentParser
import Foundation
import PlumbData
import PlumbFiles
import PlumbModel
import PlumbStages

extension GGUFTensorType: ExpressibleByArgument {
    public init?(argument: String) {
        guard let type = Self.allCases.first(where: { $0.name == argument }) else { return nil }
        self = type
    }
    public static var allValueStrings: [String] { GGUFTensorType.allCases.map(\.name) }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a model for other runtimes.",
                                                    subcommands: [ExportGGUFCommand.self, ExportChatIDsCommand.self, ExportMergeCommand.self,
                                                                  ExportAdapterCommand.self, ExportLogitsCommand.self])
}

/// `plumb export chat-ids`: the ids `TemplatedTokenizer.encodePrompt` gives each conversation, so a
/// script can compare an exported chat template as another runtime renders and tokenises it
/// (pipelines/check-gguf.sh).
struct ExportChatIDsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-ids",
        abstract: "Print plumb's prompt ids of each conversation (JSON lines of {\"messages\": [{role, content}]}), one JSON array per line.")

    @Option(help: "SentencePiece .model file.") var tokenizer: String
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Argument(help: "Conversations, one JSON object with a messages list per line.") var conversations: String

    func run() throws {
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer), template: template)
        let text = try String(contentsOfFile: conversations, encoding: .utf8)
        for (n, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let messages = try Message.conversation(jsonLine: String(line), file: conversations, line: n + 1)
            try printJSON(try templated.encodePrompt(messages).map(Int.init))
        }
    }
}

struct ExportGGUFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gguf",
        abstract: "Write a model as GGUF (llama.cpp) with its tokenizer and chat template, and an Ollama Modelfile beside it.")

    @Argument(help: "A training stage or Hugging Face directory, or a llama2.c .bin checkpoint.") var source: String
    @Option(help: "The model's tokenizer: a SentencePiece .model, or llama2.c's tokenizer.bin.") var tokenizer: String
    @Option(help: "Matrix type: f32, f16 or q8_0 (norms stay f32).") var type: GGUFTensorType = .f32
    @Option(help: "Chat template written into the file (default: plumbline when the tokenizer has its pieces, else llama2).")
    var template: ChatTemplate?
    @Option(help: "The .gguf file to write.") var out: String
    @Flag(help: "Replace existing output files.") var force = false

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        for url in [outURL, GGUFModelExport.modelfileURL(outURL)] where !force && FileManager.default.fileExists(atPath: url.path) {
            throw CLIError("\(url.path) exists", hint: "pass --force to replace it")
        }
        try printReport(GGUFModelExport.write(source: source, tokenizer: tokenizer, type: type, template: template, out: outURL) {
            FileHandle.standardError.write(Data("notice: \($0)\n".utf8))
        })
    }
}
