// Options shared by the model commands: where the weights come from, and how tokens are chosen.
import ArgumentParser
import Foundation
import PlumbModel
import PlumbStages

extension LlamaPreset: ExpressibleByArgument {}
extension DecodeWeightFormat: ExpressibleByArgument {}

/// `--weights f32|q8`: how the decoder holds the weight matrices (8-bit blocks of 32, W8A32, under q8).
/// The one option every decoding command shares (generate, chat, rs, ppo, eval oracle, bench).
struct DecodeWeightsOption: ParsableArguments {
    @Option(help: "Decoder weights: f32, or q8 (int8 blocks of 32 with one scale each, widened inside the matrix-vector kernel).")
    var weights: DecodeWeightFormat = .f32
}

/// `--model DIR` (Hugging Face checkpoint), `--llama2c FILE`, or random weights of `--preset`.
struct ModelSourceOptions: ParsableArguments {
    @Option(help: "A training stage directory or a Hugging Face checkpoint directory (config.json + model.safetensors).")
    var model: String?

    @Option(help: "A llama2.c legacy .bin checkpoint.")
    var llama2c: String?

    @Option(help: "Shape of randomly initialised weights when no checkpoint is given: \(LlamaPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: LlamaPreset = .stories15m

    @Option(help: "Seed of the random weights.")
    var seed: UInt64 = 0

    @Option(help: "Standard deviation of the random weights (Llama's init is 0.02; larger spreads the logits).")
    var initStd: Float = 0.02

    func validate() throws {
        if model != nil && llama2c != nil { throw ValidationError("give at most one of --model and --llama2c") }
    }

    /// The preset of random weights, or nil when a checkpoint is given.
    var randomPreset: LlamaPreset? { model == nil && llama2c == nil ? preset : nil }

    /// For random weights: refuses `positions` beyond the benches' rotary table and `bytes(config)` above
    /// MemAvailable, before anything is allocated. A checkpoint's shape is known only once it is read.
    func checkBench(_ what: String, positions: Int, option: String, bytes: (LlamaConfig) -> Int) throws {
        guard let preset = randomPreset else { return }
        let config = try BenchBudget.config(preset, seqLen: positions, option: option)
        try BenchBudget.checkFits("\(what) --preset \(preset.rawValue)", bytes: bytes(config))
    }

    func load() throws -> LlamaModel {
        try StageModel.load(directory: model, llama2c: llama2c, preset: preset, seed: seed, initStd: initStd)
    }

    var description: String { model ?? llama2c ?? "random \(preset.rawValue) (seed \(seed), std \(initStd))" }
}

/// `--temperature`, `--top-k`, `--top-p`: temperature 0 is greedy.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 decodes greedily.")
    var temperature: Float = 0

    @Option(help: "Keep only the k most likely tokens (0 keeps all).")
    var topK: Int = 0

    @Option(help: "Keep the smallest set of most likely tokens with this much probability (1 keeps all).")
    var topP: Float = 1

    @OptionGroup var decode: DecodeWeightsOption

    var sampling: Sampling {
        temperature == 0 ? .greedy : .random(temperature: temperature, topK: topK, topP: topP)
    }

    func validate() throws {
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
    }
}

/// Parses "1,2,3" into token ids.
func parseTokenIds(_ text: String, option: String) throws -> [Int32] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.enumerated().map { i, p in
        guard let v = Int32(p) else { throw ValidationError("\(option): item \(i + 1) '\(p)' is not a token id") }
        return v
    }
}
