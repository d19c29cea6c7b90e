// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs and their stages (not built yet)")
    func run() throws { throw CLIError("plumb: 'runs' is not built yet") }
}
