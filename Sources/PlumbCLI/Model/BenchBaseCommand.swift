// `plumb bench base`: the flags of BaseBench (PlumbModel/Benchmarks), its report as one JSON line. The
// model is a llama2.c checkpoint with its tokenizer.bin and a text file (one passage per non-empty
// line, each encoded with BOS and cut to the model's length), or a preset's shape with random weights
// and random tokens.
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel

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
        var o = BaseBench.Options()
        (o.seqLen, o.rounds, o.lora, o.seed) = (seqLen, rounds, lora, seed)
        try printReport(BaseBench.run(fp32: fp32, passages: passages, modelName: llama2c ?? preset.rawValue, o))
    }

    /// The fp32 model (frozen) and the sequences to score.
    func load() throws -> (LlamaModel, [[Int32]]) {
        guard let llama2c else { return try BaseBench.randomModel(preset, seqLen: seqLen, sequences: sequences, seed: seed) }
        guard let tokenizer, let text else { throw ValidationError("--llama2c needs --tokenizer and --text") }
        let model = try LlamaModel.load(llama2c: URL(fileURLWithPath: llama2c))
        model.parameters.releaseGradients()
        let tok = try Llama2cTokenizer(url: URL(fileURLWithPath: tokenizer), vocabSize: model.config.vocabSize)
        let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let passages = lines.filter { !$0.isEmpty }.map { Array(([Llama2cTokenizer.bosID] + tok.encode($0)).prefix(model.config.maxSeqLen)) }
        guard !passages.isEmpty else { throw ValidationError("\(text): no non-empty line") }
        return (model, passages)
    }
}
