// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run the main job on the built-in default (not built yet)")
    func run() throws { throw CLIError("plumb: 'demo' is not built yet") }
}
