// `plumb generate`: decode from a checkpoint, one JSON line per generated sequence.
import ArgumentParser
import Foundation
import PlumbModel

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate token ids from a checkpoint (batched KV-cache decoding).")

    @OptionGroup var source: ModelSourceOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Prompt token ids, comma-separated (e.g. 1,450,4799).")
    var promptIds: String

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
    }

    func run() throws {
        let model = try source.load()
        let prompt = try parseTokenIds(promptIds, option: "--prompt-ids")
        let stops = try stopIds.map { try parseTokenIds($0, option: "--stop-ids") } ?? [Int32(model.config.eosTokenId)]
        let generator = try Generator(config: model.config, weights: model.weights, maxSequences: samples)
        let out = try generator.generate([GenerationRequest(prompt: prompt, samples: samples, seed: samplingSeed)],
                                         options: GenerationOptions(maxNewTokens: maxNewTokens, sampling: sampling.sampling, stopTokens: Set(stops)))
        for s in out {
            try printJSON(["sample": s.sample, "tokens": s.tokens.map(Int.init), "finish": "\(s.finish)"])
        }
    }
}
