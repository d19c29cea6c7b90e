// Placeholder while this command is being built; its owner replaces this file.
import ArgumentParser

struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gemm", abstract: "sgemm ceiling and the products of a 15M Llama (not built yet)")
    func run() throws { throw CLIError("plumb: 'gemm' is not built yet") }
}
