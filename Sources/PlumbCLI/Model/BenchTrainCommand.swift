// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Training-step throughput (not built yet)")
    func run() throws { throw CLIError("plumb: 'train' is not built yet") }
}
