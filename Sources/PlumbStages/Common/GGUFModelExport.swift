// A model (training stage, Hugging Face directory or llama2.c .bin) as a GGUF v3 file for llama.cpp,
// Ollama, LM Studio and llama-cpp-python (`plumb export gguf`), with its SentencePiece vocabulary and
// chat template, and an Ollama Modelfile beside it (FILE.Modelfile). The format is GGUFExport
// (PlumbModel/Checkpoint/GGUF); this file adds the tokenizer's keys and the Modelfile.
import Foundation
import PlumbData
import PlumbFiles
import PlumbModel

public enum GGUFModelExport {
    /// What was written, as `plumb export gguf` prints it.
    public struct Report: Codable, Sendable {
        public var gguf: String, modelfile: String, type: String
        public var tensors: Int, bytes: Int
        public var chatTemplate: String
        /// Matrices written f16 where q8_0 could not hold them (each also a notice).
        public var f16Fallbacks: Int
        enum CodingKeys: String, CodingKey {
            case gguf, modelfile, type, tensors, bytes, chatTemplate = "chat_template", f16Fallbacks = "f16_fallbacks"
        }
    }

    /// The Modelfile's path beside `gguf`.
    public static func modelfileURL(_ gguf: URL) -> URL { gguf.deletingPathExtension().appendingPathExtension("Modelfile") }

    /// Writes `source` with `tokenizer`'s vocabulary as `out` (matrices of `type`) and its Modelfile;
    /// the template is `template`, or plumbline when the tokenizer has its pieces, else llama2.
    public static func write(source: String, tokenizer: String, type: GGUFTensorType, template: ChatTemplate?, out: URL,
                             notice: (String) -> Void = { _ in }) throws -> Report {
        let model = try loadModel(source)
        let (vocab, chosen) = try Self.vocabulary(tokenizer, vocabSize: model.config.vocabSize, template: template)
        let name = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        let (file, notices) = try GGUFExport.file(config: model.config, tensors: try model.tensors(), type: type, vocabulary: vocab, name: name)
        notices.forEach(notice)
        try GGUFWriter.write(file, to: out)
        try AtomicFile.write(Data(modelfile(gguf: out.lastPathComponent, template: chosen).utf8), to: modelfileURL(out))
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out.path)[.size] as? Int) ?? -1
        return Report(gguf: out.path, modelfile: modelfileURL(out).path, type: type.name, tensors: file.tensors.count, bytes: bytes,
                      chatTemplate: chosen.rawValue, f16Fallbacks: notices.count)
    }

    /// A training stage or Hugging Face directory, or a llama2.c .bin checkpoint.
    static func loadModel(_ source: String) throws -> LlamaModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { throw StageError("\(source) does not exist") }
        return isDirectory.boolValue ? try StageModel.load(URL(fileURLWithPath: source))
                                     : try LlamaModel.load(llama2c: URL(fileURLWithPath: source))
    }

    /// GGUF's tokenizer keys from a SentencePiece .model or a llama2.c tokenizer.bin, and the chat template.
    public static func vocabulary(_ path: String, vocabSize: Int, template: ChatTemplate?) throws -> (GGUFVocabulary, ChatTemplate) {
        if path.hasSuffix(".json") { throw notSentencePiece(path) }
        if path.hasSuffix(".bin") {
            let t = try Llama2cTokenizer(url: URL(fileURLWithPath: path), vocabSize: vocabSize)
            let chosen = template ?? .llama2
            guard chosen.specialTokens.isEmpty else {
                throw StageError("chat template \(chosen.rawValue) needs the pieces \(chosen.specialTokens), which llama2.c's \(path) lacks"
                                 + "\nHINT: use --template llama2")
            }
            return (GGUFVocabulary(tokens: t.sentencePiecePieces, scores: t.scores, types: t.tokenTypes, bosID: Llama2cTokenizer.bosID,
                                   eosID: Llama2cTokenizer.eosID, unkID: Llama2cTokenizer.unkID, chatTemplate: chosen.jinja), chosen)
        }
        let spm: Tokenizer
        do { spm = try Tokenizer(modelFile: path) } catch { throw notSentencePiece(path) }
        guard spm.vocabSize == vocabSize else {
            throw StageError("tokenizer \(path) has \(spm.vocabSize) pieces but the model's vocab_size is \(vocabSize)")
        }
        guard let bos = spm.bosID, let eos = spm.eosID, let unk = spm.unkID else {
            throw StageError("tokenizer \(path) has no BOS, EOS or UNK id; llama.cpp's SentencePiece tokenizer needs all three")
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
    static func notSentencePiece(_ path: String) -> StageError {
        var kind = "not a SentencePiece model or llama2.c tokenizer.bin"
        var needed = "tokenizer.ggml.model \"gpt2\" (byte-level BPE), \"bert\" (WordPiece) or \"t5\" (Unigram), depending on the tokenizer"
        if let data = FileManager.default.contents(atPath: path),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let model = json["model"] as? [String: Any], let type = model["type"] as? String {
            kind = "a Hugging Face tokenizer.json of type \(type)"
            needed = ["BPE": "tokenizer.ggml.model \"gpt2\" (byte-level BPE)", "WordPiece": "tokenizer.ggml.model \"bert\" (WordPiece)",
                      "Unigram": "tokenizer.ggml.model \"t5\" (Unigram)"][type] ?? needed
        }
        return StageError("tokenizer \(path) is \(kind); this exporter writes tokenizer.ggml.model \"llama\" (SentencePiece) only, "
            + "and this tokenizer would need \(needed)\nHINT: export with the model's SentencePiece .model")
    }

    /// An Ollama Modelfile for the exported file: template and stop strings.
    public static func modelfile(gguf: String, template: ChatTemplate) -> String {
        var lines = ["# Ollama: ollama create NAME -f THIS_FILE", "FROM ./\(gguf)", "TEMPLATE \"\"\"\(template.ollamaTemplate)\"\"\""]
        lines += template.ollamaStops.map { "PARAMETER stop \"\($0)\"" }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension GGUFTensorType {
    /// The type's name on the command line and in llama.cpp: f32, f16, q8_0.
    public var name: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .q8_0: return "q8_0"
        }
    }
}
