// `plumb bench import`: records/s importing a preference file (the importer with default options)
// and tokenising its comparisons with a chat template (prompt + chosen, and the rejected response),
// each timed separately; the fastest of `repeats` runs is reported.
import Foundation
import PlumbFiles

public enum ImportBench {
    public struct Options: Sendable {
        /// Input file (e.g. the HH-RLHF sample).
        public var input: String
        /// SentencePiece .model used to tokenise.
        public var model: String
        public var template: ChatTemplate = .llama2
        /// Timed repetitions (the best is reported).
        public var repeats = 3
        public init(input: String, model: String) { self.input = input; self.model = model }
    }

    public struct Report: Codable, Sendable {
        public var bench = "import"
        public var input: String
        public var template: String
        public var records: Int
        public var tokens: Int
        public var bosID: Int32, eosID: Int32
        public var specialTokens: [String: Int32]
        public var importSeconds: Double, tokeniseSeconds: Double
        public var importRecordsPerSecond: Double, tokeniseRecordsPerSecond: Double
        /// records / (import + tokenise seconds).
        public var recordsPerSecond: Double
        public var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case bench, input, template, records, tokens, bosID = "bos_id", eosID = "eos_id", specialTokens = "special_tokens"
            case importSeconds = "import_seconds", tokeniseSeconds = "tokenise_seconds", importRecordsPerSecond = "import_records_per_second"
            case tokeniseRecordsPerSecond = "tokenise_records_per_second", recordsPerSecond = "records_per_second", peakRSSBytes = "peak_rss_bytes"
        }
    }

    public static func run(_ o: Options) throws -> Report {
        let tokenizer = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: o.model), template: o.template)
        var bestImport = Double.infinity, bestTokenise = Double.infinity
        var records = 0, tokens = 0
        for _ in 0..<max(1, o.repeats) {
            let start = monotonicSeconds()
            let result = try Importer().importFiles([o.input])
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
        return Report(input: o.input, template: o.template.rawValue, records: records, tokens: tokens, bosID: tokenizer.info.bosID,
                      eosID: tokenizer.info.eosID, specialTokens: tokenizer.info.specialTokens, importSeconds: bestImport,
                      tokeniseSeconds: bestTokenise, importRecordsPerSecond: Double(records) / bestImport,
                      tokeniseRecordsPerSecond: Double(records) / bestTokenise, recordsPerSecond: Double(records) / (bestImport + bestTokenise),
                      peakRSSBytes: peakRSSBytes() ?? -1)
    }
}
