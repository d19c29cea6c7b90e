// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct EvalOracleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oracle", abstract: "Oracle evaluation of a policy (not built yet)")
    func run() throws { throw CLIError("plumb: 'oracle' is not built yet") }
}
