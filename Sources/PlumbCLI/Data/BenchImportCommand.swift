// `plumb bench import`: the flags of ImportBench (PlumbData/Benchmarks), its report as one JSON object.
import ArgumentParser
import PlumbData

struct BenchImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Records/s importing a file and tokenising its comparisons with a chat template; prints one JSON object."
    )

    @Option(help: "Input file (e.g. the HH-RLHF sample).")
    var input: String
    @Option(help: "SentencePiece .model used to tokenise (e.g. Llama 2's tokenizer.model).")
    var model: String
    @Option(help: "Chat template.")
    var template: ChatTemplate = .llama2
    @Option(help: "Timed repetitions (the best is reported).")
    var repeats = 3

    func run() throws {
        var o = ImportBench.Options(input: input, model: model)
        (o.template, o.repeats) = (template, repeats)
        try printReport(ImportBench.run(o))
    }
}
