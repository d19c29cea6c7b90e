// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenizer", abstract: "Train and use SentencePiece tokenizers (not built yet)")
    func run() throws { throw CLIError("plumb: 'tokenizer' is not built yet") }
}
