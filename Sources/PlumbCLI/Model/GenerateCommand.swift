// `plumb generate`: decode from a checkpoint, one JSON line per generated sequence.
// The prompt is token ids (`--prompt-ids`), or text (`--prompt`) encoded with a SentencePiece
// `--tokenizer`, BOS first; with a tokenizer the completions are decoded to text as well.
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel

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
        if let spm, spm.vocabSize != model.config.vocabSize {
            throw CLIError("tokenizer \(tokenizer!) has \(spm.vocabSize) pieces but the model's vocab_size is \(model.config.vocabSize)")
        }
        let ids: [Int32]
        if let prompt, let spm {
            ids = [Int32(model.config.bosTokenId)] + (try spm.encode(prompt))
        } else {
            ids = try parseTokenIds(promptIds!, option: "--prompt-ids")
        }
        let stops = try stopIds.map { try parseTokenIds($0, option: "--stop-ids") } ?? model.config.eosTokenIds.compactMap { Int32(exactly: $0) }
        let generator = try Generator(config: model.config, weights: model.weights, maxSequences: samples,
                                      format: sampling.decode.weights)
        let out = try generator.generate([GenerationRequest(prompt: ids, samples: samples, seed: samplingSeed)],
                                         options: GenerationOptions(maxNewTokens: maxNewTokens, sampling: sampling.sampling, stopTokens: Set(stops)))
        for s in out {
            var line: [String: Any] = ["sample": s.sample, "tokens": s.tokens.map(Int.init), "finish": "\(s.finish)"]
            if let spm { line["text"] = try spm.decode(s.tokens) }
            try printJSON(line)
        }
    }
}
