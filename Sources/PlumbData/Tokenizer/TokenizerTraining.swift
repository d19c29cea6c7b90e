import CSentencePiece
import Foundation

/// SentencePiece model types that `plumb tokenizer train` offers.
public enum TokenizerModelType: String, CaseIterable, Codable, Sendable {
    case bpe
    case unigram
}

/// Options for training a SentencePiece model. Defaults follow Llama 2's tokenizer: identity
/// normalisation (text is kept byte for byte, so decode(encode(x)) == x), digits split, byte
/// fallback, unk=0 bos=1 eos=2, no pad.
public struct TokenizerTrainingOptions: Equatable, Sendable {
    public var modelType: TokenizerModelType = .bpe
    public var vocabSize = 8_000
    public var byteFallback = true
    /// Split every digit into its own piece (Llama 2's rule); false lets merges make pieces of whole
    /// numbers, as GPT-2's tokenizer does.
    public var splitDigits = true
    /// Pieces that are always kept whole and never split (e.g. chat-template markers).
    public var userDefinedSymbols: [String] = ChatTemplate.plumbline.specialTokens
    public var characterCoverage = 0.9995
    /// Upper bound on sentences sampled from the input (0 = all).
    public var inputSentenceSize = 1_000_000
    public var maxSentenceLength = 16_384
    public var seed: UInt32 = 1
    public var threads = 2

    public init() {}

    /// The trainer's option string (`--key=value ...`).
    func optionString(inputFiles: [String], modelPrefix: String) throws -> String {
        for path in inputFiles + [modelPrefix] where path.contains(where: \.isWhitespace) {
            throw TokenizerError("tokenizer training: path '\(path)' contains whitespace, which the SentencePiece option string cannot carry")
        }
        for symbol in userDefinedSymbols where symbol.isEmpty || symbol.contains(",") || symbol.contains(where: \.isWhitespace) {
            throw TokenizerError("tokenizer training: user-defined symbol '\(symbol)' must be non-empty without commas or spaces")
        }
        var options = [
            "--input=\(inputFiles.joined(separator: ","))",
            "--model_prefix=\(modelPrefix)",
            "--model_type=\(modelType.rawValue)",
            "--vocab_size=\(vocabSize)",
            "--byte_fallback=\(byteFallback)",
            "--character_coverage=\(characterCoverage)",
            "--normalization_rule_name=identity",
            "--remove_extra_whitespaces=false",
            "--split_digits=\(splitDigits)",
            "--allow_whitespace_only_pieces=true",
            "--max_sentence_length=\(maxSentenceLength)",
            "--num_threads=\(threads)",
            "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
        ]
        if inputSentenceSize > 0 {
            options += ["--input_sentence_size=\(inputSentenceSize)", "--shuffle_input_sentence=true"]
        }
        if !userDefinedSymbols.isEmpty {
            options.append("--user_defined_symbols=\(userDefinedSymbols.joined(separator: ","))")
        }
        return options.joined(separator: " ")
    }
}

/// Trains SentencePiece models through libsentencepiece's trainer.
public enum TokenizerTrainer {
    /// Trains on UTF-8 text files (one sentence per line) and writes `<modelPrefix>.model` and
    /// `<modelPrefix>.vocab`. Returns the path of the `.model` file. The model's trainer_spec keeps
    /// only the file names of the inputs and the prefix, so its bytes do not depend on where it ran.
    @discardableResult
    public static func train(inputFiles: [String], modelPrefix: String, options: TokenizerTrainingOptions,
                             quiet: Bool = true) throws -> String {
        guard !inputFiles.isEmpty else { throw TokenizerError("tokenizer training: no input files") }
        for file in inputFiles where !FileManager.default.fileExists(atPath: file) {
            throw TokenizerError("tokenizer training: input file '\(file)' does not exist")
        }
        let optionString = try options.optionString(inputFiles: inputFiles, modelPrefix: modelPrefix)
        spm_set_min_log_level(quiet ? 2 : 0)
        spm_set_random_seed(options.seed)
        if let error = Tokenizer.take(spm_train(optionString)) {
            throw TokenizerError("tokenizer training failed: \(error)")
        }
        let model = modelPrefix + ".model"
        var error: UnsafeMutablePointer<CChar>?
        if spm_relativise_trainer_paths(model, &error) != 0 {
            throw TokenizerError("tokenizer training: \(Tokenizer.take(error) ?? "cannot rewrite the model's trainer paths")")
        }
        return model
    }
}
