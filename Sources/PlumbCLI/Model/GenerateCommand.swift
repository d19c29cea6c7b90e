// `plumb generate`: decode from a checkpoint, one JSON line per generated sequence.
// The prompt is token ids (`--prompt-ids`), or text (`--prompt`) encoded with a SentencePiece
// `--tokenizer`, BOS first; with a tokenizer the completions are decoded to text as well.
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel
import PlumbStages

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate from a checkpoint (batched KV-cache decoding); one JSON line per completion.")

    @OptionGroup var source: ModelSourceOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Prompt token ids, comma-separated (e.g. 1,450,4799).")
    var promptIds: String?

    @Option(help: "Prompt text (needs --tokenizer); BOS is put first.")
    var prompt: String?

    @Option(help: "A SentencePiece .model whose vocabulary matches the checkpoint.")
    var tokenizer: String?

    @Option(help: "Completions of the prompt; they share its prefill.")
    var samples: Int = 1

    @Option(help: "Most new tokens per completion.")
    var maxNewTokens: Int = 64

    @Option(help: "Token ids that end a completion, comma-separated (default: the config's eos_token_id).")
    var stopIds: String?

    @Option(help: "Seed of the sampling streams.")
    var samplingSeed: UInt64 = 0

    func validate() throws {
        guard samples > 0, maxNewTokens >= 0 else { throw ValidationError("--samples must be > 0 and --max-new-tokens >= 0") }
        guard (promptIds == nil) != (prompt == nil) else { throw ValidationError("give exactly one of --prompt-ids and --prompt") }
        if prompt != nil && tokenizer == nil { throw ValidationError("--prompt needs --tokenizer") }
    }

    func run() throws {
        let model = try source.load()
        let spm = try tokenizer.map { try Tokenizer(modelFile: $0) }
        var o = Completions.Options(samples: samples, maxNewTokens: maxNewTokens, sampling: sampling.sampling, weights: sampling.decode.weights,
                                    seed: samplingSeed)
        o.stopIds = try stopIds.map { try parseTokenIds($0, option: "--stop-ids") }
        let ids = try promptIds.map { try parseTokenIds($0, option: "--prompt-ids") }
        for line in try Completions.generate(model: model, prompt: ids.map(Completions.Prompt.ids) ?? .text(prompt!), tokenizer: spm, tokenizerFile: tokenizer ?? "", o) {
            try printReport(line)
        }
    }
}
