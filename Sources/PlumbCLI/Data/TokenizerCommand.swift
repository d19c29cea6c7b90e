// `plumb tokenizer train|encode|decode`: SentencePiece models through PlumbData's Tokenizer.
import ArgumentParser
import Foundation
import PlumbData

extension TokenizerModelType: ExpressibleByArgument {}
extension ChatTemplate: ExpressibleByArgument {}

struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train and use SentencePiece tokenizers.",
        subcommands: [TokenizerTrainCommand.self, TokenizerEncodeCommand.self, TokenizerDecodeCommand.self]
    )
}

struct TokenizerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a SentencePiece model (writes PREFIX.model and PREFIX.vocab).")

    @Option(name: .customLong("input"), help: "Text files, one sentence per line (repeatable).")
    var inputs: [String] = []
    @Option(name: .customLong("records"), help: "Record shards (a shard, stage or run directory) whose texts to train on (repeatable).")
    var records: [String] = []
    @Option(help: "Output prefix: writes PREFIX.model and PREFIX.vocab.")
    var out: String
    @Option(help: "Model type: bpe or unigram.")
    var modelType: TokenizerModelType = .bpe
    @Option(help: "Vocabulary size.")
    var vocabSize = 8_000
    @Flag(inversion: .prefixedNo, help: "Fall back to UTF-8 byte pieces for unknown characters.")
    var byteFallback = true
    @Option(name: .customLong("special"), help: "User-defined special pieces (repeatable; default: the plumbline chat template's markers).")
    var specials: [String] = []
    @Option(help: "Seed for sentence sampling.")
    var seed: UInt32 = 1

    func validate() throws {
        if inputs.isEmpty && records.isEmpty { throw ValidationError("give at least one --input text file or --records shard path") }
    }

    func run() throws {
        var files = inputs
        var temporary: [URL] = []
        defer { for url in temporary { try? FileManager.default.removeItem(at: url) } }
        for (index, path) in records.enumerated() {
            let url = URL(fileURLWithPath: out + ".corpus-\(index).txt")
            let count = try TrainingCorpus.writeShardTexts(from: URL(fileURLWithPath: path), to: url)
            print("read \(count) texts from \(path)")
            temporary.append(url)
            files.append(url.path)
        }
        var options = TokenizerTrainingOptions()
        options.modelType = modelType
        options.vocabSize = vocabSize
        options.byteFallback = byteFallback
        options.seed = seed
        if !specials.isEmpty { options.userDefinedSymbols = specials }
        let model = try TokenizerTrainer.train(inputFiles: files, modelPrefix: out, options: options)
        let tokenizer = try Tokenizer(modelFile: model)
        print("wrote \(model): \(modelType.rawValue), \(tokenizer.vocabSize) pieces, special pieces \(options.userDefinedSymbols)")
    }
}

struct TokenizerEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Encode each line of standard input (or TEXT) to ids, one line of ids per input line.")

    @Option(help: "SentencePiece .model file.")
    var model: String
    @Flag(help: "Print pieces instead of ids.")
    var pieces = false
    @Argument(help: "Text to encode; standard input when absent.")
    var text: String?

    func run() throws {
        let tokenizer = try Tokenizer(modelFile: model)
        let lines = text.map { [$0] } ?? AnyIterator { readLine(strippingNewline: true) }.map { $0 }
        for line in lines {
            if pieces {
                print(try tokenizer.encodePieces(line).joined(separator: " "))
            } else {
                print(try tokenizer.encode(line).map(String.init).joined(separator: " "))
            }
        }
    }
}

struct TokenizerDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Decode lines of space-separated ids from standard input (or IDS) to text.")

    @Option(help: "SentencePiece .model file.")
    var model: String
    @Argument(help: "Ids to decode; standard input (one sequence per line) when absent.")
    var ids: [Int32] = []

    func run() throws {
        let tokenizer = try Tokenizer(modelFile: model)
        if !ids.isEmpty {
            print(try tokenizer.decode(ids))
            return
        }
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            let parsed = line.split(separator: " ").map { Int32($0) }
            guard !parsed.contains(nil) else { throw CLIError("stdin line \(lineNumber): expected space-separated integer ids") }
            print(try tokenizer.decode(parsed.map { $0! }))
        }
    }
}
