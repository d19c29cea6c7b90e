// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Greedy decoding throughput (not built yet)")
    func run() throws { throw CLIError("plumb: 'decode' is not built yet") }
}
