// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct ShardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shards", abstract: "Inspect and verify record shards (not built yet)")
    func run() throws { throw CLIError("plumb: 'shards' is not built yet") }
}
