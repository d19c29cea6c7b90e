// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct BenchSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "Batched sampling throughput (not built yet)")
    func run() throws { throw CLIError("plumb: 'sample' is not built yet") }
}
