// `plumb bench base`: a bf16 frozen base against the fp32 one it is rounded from (BaseDTypeBenchmark):
// held-out log-likelihood per token, and LoRA SFT step time alternated fp32 / bf16 in one process.
// The model is a llama2.c checkpoint with its tokenizer.bin and a text file (one passage per
// non-empty line, each encoded with BOS and cut to the model's length), or a preset's shape with
// random weights and random tokens. One JSON line.
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel
import PlumbTensor

struct BenchBaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "base", abstract: "A bf16 frozen base against its fp32 original: held-out log-likelihood per token and LoRA step time, alternated.")

    @Option(help: "A llama2.c checkpoint (.bin); without it, --preset with random weights.") var llama2c: String?
    @Option(help: "The checkpoint's llama2.c tokenizer.bin.") var tokenizer: String?
    @Option(help: "Held-out text: one passage per non-empty line.") var text: String?
    @Option(help: "Model shape when no checkpoint is given (random weights std 0.02, random tokens).") var preset: LlamaPreset = .stories110m
    @Option(help: "Random sequences (no checkpoint).") var sequences = 4
    @Option(help: "Tokens per sequence for the step timing (and the random sequences).") var seqLen = 256
    @Option(help: "Alternated rounds of timed steps (one fp32 and one bf16 step each).") var rounds = 3
    @Option(help: "LoRA settings of the timed steps.") var lora: String = "on"
    @Option(help: "Seed of weights, tokens and adapters.") var seed: UInt64 = 0

    func run() throws {
        let (fp32, passages) = try load()
        let bf16 = try LlamaModel.bf16(rounding: fp32)
        let llFP32 = try BaseDTypeBenchmark.logLikelihood(fp32, passages)
        let llBF16 = try BaseDTypeBenchmark.logLikelihood(bf16, passages)
        let stepTokens = Array(passages.flatMap { $0 }.prefix(seqLen))
        var settings = try LoRASettings(parsing: lora)
        settings.baseDType = .fp32
        let steps = try BaseDTypeBenchmark.alternatedSteps(fp32: fp32, bf16: bf16, tokens: stepTokens, rounds: rounds, lora: settings, seed: seed)
        func median(_ x: [Double]) -> Double { let s = x.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        try printJSON([
            "benchmark": "base", "model": llama2c ?? preset.rawValue, "passages": passages.count, "predicted_tokens": llFP32.tokens,
            "loglik_per_token_fp32": llFP32.perToken, "loglik_per_token_bf16": llBF16.perToken,
            "loglik_per_token_difference": llBF16.perToken - llFP32.perToken,
            "weight_rounding": bf16.bf16Rounding!.summary,
            "base_bytes_fp32": fp32.weightBytes, "base_bytes_bf16": bf16.weightBytes,
            "step_tokens": stepTokens.count, "step_seconds_fp32": steps.fp32, "step_seconds_bf16": steps.bf16,
            "median_step_ratio_bf16_over_fp32": median(steps.bf16) / median(steps.fp32),
            "last_loss_fp32": Double(steps.losses.fp32), "last_loss_bf16": Double(steps.losses.bf16),
            "load_average": (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "",
        ])
    }

    /// The fp32 model (frozen) and the sequences to score.
    func load() throws -> (LlamaModel, [[Int32]]) {
        if let llama2c {
            guard let tokenizer, let text else { throw ValidationError("--llama2c needs --tokenizer and --text") }
            let model = try LlamaModel.load(llama2c: URL(fileURLWithPath: llama2c))
            model.parameters.releaseGradients()
            let tok = try Llama2cTokenizer(url: URL(fileURLWithPath: tokenizer), vocabSize: model.config.vocabSize)
            let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let passages = lines.filter { !$0.isEmpty }.map { Array(([Llama2cTokenizer.bosID] + tok.encode($0)).prefix(model.config.maxSeqLen)) }
            guard !passages.isEmpty else { throw ValidationError("\(text): no non-empty line") }
            return (model, passages)
        }
        let config = try BenchBudget.config(preset, seqLen: seqLen)
        let model = try LlamaModel(config: config, heads: .lm, gradients: false)
        model.initialize(seed: seed)
        var rng = SeededRNG(seed: seed &+ 1)
        let passages = (0..<sequences).map { _ in (0..<seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) } }
        return (model, passages)
    }
}
