// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct BenchShardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shards", abstract: "Shard write/read throughput (not built yet)")
    func run() throws { throw CLIError("plumb: 'shards' is not built yet") }
}
