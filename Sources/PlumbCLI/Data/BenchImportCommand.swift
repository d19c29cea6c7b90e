// `plumb bench import`: records/s importing and tokenising a preference file (the HH-RLHF sample).
import ArgumentParser
import Foundation
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
        let tokenizer = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: model), template: template)
        var bestImport = Double.infinity, bestTokenise = Double.infinity
        var records = 0, tokens = 0
        for _ in 0..<max(1, repeats) {
            let start = monotonicSeconds()
            let result = try Importer().importFiles([input])
            let imported = monotonicSeconds()
            var count = 0
            for comparison in result.comparisons {
                count += try tokenizer.encode(prompt: comparison.prompt.messages, response: comparison.chosen).tokens.count
                count += try tokenizer.encodeResponse(comparison.rejected).count
            }
            let tokenised = monotonicSeconds()
            bestImport = min(bestImport, imported - start)
            bestTokenise = min(bestTokenise, tokenised - imported)
            records = result.sources.reduce(0) { $0 + $1.recordsRead }
            tokens = count
        }
        try printJSON([
            "bench": "import", "input": input, "template": template.rawValue, "records": records, "tokens": tokens,
            "bos_id": tokenizer.info.bosID, "eos_id": tokenizer.info.eosID, "special_tokens": tokenizer.info.specialTokens,
            "import_seconds": bestImport, "tokenise_seconds": bestTokenise,
            "import_records_per_second": Double(records) / bestImport,
            "tokenise_records_per_second": Double(records) / bestTokenise,
            "records_per_second": Double(records) / (bestImport + bestTokenise),
            "peak_rss_bytes": peakRSSBytes() ?? -1,
        ])
    }
}
