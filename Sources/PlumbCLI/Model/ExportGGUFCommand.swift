// `plumb export gguf SOURCE --tokenizer FILE --type f32|f16|q8_0 --out FILE.gguf [--force]`: a model
// (training stage, Hugging Face directory or llama2.c .bin) as a GGUF v3 file for llama.cpp, Ollama,
// LM Studio and llama-cpp-python, with its SentencePiece vocabulary and chat template, and an Ollama
// Modelfile beside it (FILE.Modelfile). The format is GGUFExport (PlumbModel/Checkpoint/GGUF).
import ArgumentParser
import Foundation
import PlumbData
import PlumbFiles
import PlumbModel
import PlumbStages

extension GGUFTensorType: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "f32": self = .f32
        case "f16": self = .f16
        case "q8_0": self = .q8_0
        default: return nil
        }
    }
    public static var allValueStrings: [String] { ["f32", "f16", "q8_0"] }
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
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let list = object["messages"] as? [[String: String]] else {
                throw CLIError("\(conversations): line \(n + 1): expected {\"messages\": [{\"role\": ..., \"content\": ...}]}")
            }
            let messages: [Message] = try list.enumerated().map { i, m in
                guard let role = m["role"].flatMap(Role.init(rawValue:)), let content = m["content"] else {
                    throw CLIError("\(conversations): line \(n + 1): message \(i + 1) needs a role (system, user, assistant) and content")
                }
                return Message(role: role, content: content)
            }
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
        let modelfileURL = outURL.deletingPathExtension().appendingPathExtension("Modelfile")
        for url in [outURL, modelfileURL] where !force && FileManager.default.fileExists(atPath: url.path) {
            throw CLIError("\(url.path) exists", hint: "pass --force to replace it")
        }
        let model = try loadModel()
        let (vocabulary, chosen) = try Self.vocabulary(tokenizer, vocabSize: model.config.vocabSize, template: template)
        let name = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        let (file, notices) = try GGUFExport.file(config: model.config, tensors: try model.tensors(), type: type,
                                                  vocabulary: vocabulary, name: name)
        for notice in notices { FileHandle.standardError.write(Data("notice: \(notice)\n".utf8)) }
        try GGUFWriter.write(file, to: outURL)
        try AtomicFile.write(Data(Self.modelfile(gguf: outURL.lastPathComponent, template: chosen).utf8), to: modelfileURL)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: outURL.path)[.size] as? Int) ?? -1
        try printJSON([
            "gguf": outURL.path, "modelfile": modelfileURL.path, "type": GGUFTensorType.allValueStrings[GGUFTensorType.allCases.firstIndex(of: type)!],
            "tensors": file.tensors.count, "bytes": bytes, "chat_template": chosen.rawValue, "f16_fallbacks": notices.count,
        ])
    }

    private func loadModel() throws -> LlamaModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { throw CLIError("\(source) does not exist") }
        return isDirectory.boolValue ? try StageModel.load(URL(fileURLWithPath: source))
                                     : try LlamaModel.load(llama2c: URL(fileURLWithPath: source))
    }

    /// GGUF's tokenizer keys from a SentencePiece .model or a llama2.c tokenizer.bin, and the chat template.
    static func vocabulary(_ path: String, vocabSize: Int, template: ChatTemplate?) throws -> (GGUFVocabulary, ChatTemplate) {
        if path.hasSuffix(".json") { throw notSentencePiece(path) }
        if path.hasSuffix(".bin") {
            let t = try Llama2cTokenizer(url: URL(fileURLWithPath: path), vocabSize: vocabSize)
            let chosen = template ?? .llama2
            guard chosen.specialTokens.isEmpty else {
                throw CLIError("chat template \(chosen.rawValue) needs the pieces \(chosen.specialTokens), which llama2.c's \(path) lacks",
                               hint: "use --template llama2")
            }
            return (GGUFVocabulary(tokens: t.sentencePiecePieces, scores: t.scores, types: t.tokenTypes, bosID: Llama2cTokenizer.bosID,
                                   eosID: Llama2cTokenizer.eosID, unkID: Llama2cTokenizer.unkID, chatTemplate: chosen.jinja), chosen)
        }
        let spm: Tokenizer
        do { spm = try Tokenizer(modelFile: path) } catch { throw notSentencePiece(path) }
        guard spm.vocabSize == vocabSize else {
            throw CLIError("tokenizer \(path) has \(spm.vocabSize) pieces but the model's vocab_size is \(vocabSize)")
        }
        guard let bos = spm.bosID, let eos = spm.eosID, let unk = spm.unkID else {
            throw CLIError("tokenizer \(path) has no BOS, EOS or UNK id; llama.cpp's SentencePiece tokenizer needs all three")
        }
        let chosen = template ?? (ChatTemplate.plumbline.specialTokens.allSatisfy { spm.id(ofPiece: $0) != nil } ? .plumbline : .llama2)
        let templated = try TemplatedTokenizer(tokenizer: spm, template: chosen)
        let userDefined = Set(templated.info.specialTokens.values)
        let ids = (0..<Int32(vocabSize))
        let types: [Int32] = ids.map { id in
            if spm.isUnknown(id) { return 2 }
            if spm.isControl(id) { return 3 }
            if userDefined.contains(id) { return 4 }
            if spm.isUnused(id) { return 5 }
            return spm.isByte(id) ? 6 : 1
        }
        return (GGUFVocabulary(tokens: ids.map { Array((spm.piece(ofID: $0) ?? "").utf8) }, scores: ids.map(spm.score), types: types,
                               bosID: bos, eosID: eos, unkID: unk, chatTemplate: chosen.jinja), chosen)
    }

    /// The error for a tokenizer GGUF's `llama` (SentencePiece) model cannot describe.
    static func notSentencePiece(_ path: String) -> CLIError {
        var kind = "not a SentencePiece model or llama2.c tokenizer.bin"
        var needed = "tokenizer.ggml.model \"gpt2\" (byte-level BPE), \"bert\" (WordPiece) or \"t5\" (Unigram), depending on the tokenizer"
        if let data = FileManager.default.contents(atPath: path),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let model = json["model"] as? [String: Any], let type = model["type"] as? String {
            kind = "a Hugging Face tokenizer.json of type \(type)"
            needed = ["BPE": "tokenizer.ggml.model \"gpt2\" (byte-level BPE)", "WordPiece": "tokenizer.ggml.model \"bert\" (WordPiece)",
                      "Unigram": "tokenizer.ggml.model \"t5\" (Unigram)"][type] ?? needed
        }
        return CLIError("tokenizer \(path) is \(kind); this exporter writes tokenizer.ggml.model \"llama\" (SentencePiece) only, "
            + "and this tokenizer would need \(needed)", hint: "export with the model's SentencePiece .model")
    }

    /// An Ollama Modelfile for the exported file: template and stop strings.
    static func modelfile(gguf: String, template: ChatTemplate) -> String {
        var lines = ["# Ollama: ollama create NAME -f THIS_FILE", "FROM ./\(gguf)", "TEMPLATE \"\"\"\(template.ollamaTemplate)\"\"\""]
        lines += template.ollamaStops.map { "PARAMETER stop \"\($0)\"" }
        return lines.joined(separator: "\n") + "\n"
    }
}
