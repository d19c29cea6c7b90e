// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import preference data (not built yet)")
    func run() throws { throw CLIError("plumb: 'import' is not built yet") }
}
