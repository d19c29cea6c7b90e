// `plumb tokenizer train|encode|decode`: SentencePiece models through PlumbData's Tokenizer.
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

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
    @Option(help: "Stage directory to write: RUNS/RUN/STAGE; it holds spm.model and spm.vocab.")
    var out: String
    @Option(help: "Model type: bpe or unigram.")
    var modelType: TokenizerModelType = .bpe
    @Option(help: "Vocabulary size.")
    var vocabSize = 8_000
    @Flag(inversion: .prefixedNo, help: "Fall back to UTF-8 byte pieces for unknown characters.")
    var byteFallback = true
    @Flag(inversion: .prefixedNo, help: "One piece per digit (Llama 2's rule); --no-split-digits lets merges make whole numbers one piece.")
    var splitDigits = true
    @Option(name: .customLong("special"), help: "User-defined special pieces (repeatable; default: the plumbline chat template's markers).")
    var specials: [String] = []
    @Option(help: "Seed for sentence sampling.")
    var seed: UInt32 = 1

    func run() throws {
        var p = TokenizerTrainStage.Parameters()
        (p.modelType, p.vocabSize, p.byteFallback, p.specials, p.seed) = (modelType, vocabSize, byteFallback, specials, seed)
        p.splitDigits = splitDigits
        let location = StageLocation(directory: fileURL(out))
        let summary = try StageRun.run(TokenizerTrainStage.self, p, inputs: StageInputs(["input": inputs.map(fileURL), "records": records.map(fileURL)]),
                                       location: location)
        print("wrote \(location.directory.appendingPathComponent(TokenizerTrainStage.mainFile!).path): \(modelType.rawValue), \(summary.pieces) pieces")
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
