// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate text from a checkpoint (not built yet)")
    func run() throws { throw CLIError("plumb: 'generate' is not built yet") }
}
