// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Generate the built-in alignment task (not built yet)")
    func run() throws { throw CLIError("plumb: 'task' is not built yet") }
}
