// `plumb bench memory --preset 1b --mode lora-sft|lora-dpo|full-sft|lora-ppo`: one training step's peak
// RSS and time with LoRA on a frozen base or with every parameter trained (LoRAMemoryBenchmark), or
// one PPO iteration with the five roles on one base (LoRAPPOMemoryBench), one JSON line. Run one
// process per mode: the peak RSS is the process's.
import ArgumentParser
import PlumbModel
import PlumbTensor

extension LoRAMemoryBenchmark.Mode: ExpressibleByArgument {}
extension BaseDType: ExpressibleByArgument {}

struct BenchMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Peak RSS and step time of LoRA SFT / DPO / a PPO iteration on a frozen base, or of full-parameter SFT, with random weights.")

    @Option(help: "Model shape (1b: TinyLlama-1.1B's).") var preset: LlamaPreset = .tinyLlama1b
    @Option(help: "lora-sft, lora-dpo, full-sft or lora-ppo.") var mode: LoRAMemoryBenchmark.Mode = .loraSFT
    @Option(help: "Tokens per sequence.") var seqLen: Int = 512
    @Option(help: "Timed steps (after one warm-up step).") var steps: Int = 2
    @Option(help: "LoRA settings (rank=8 alpha=16 targets=all-linear by default).") var lora: String = "on"
    @Option(help: "How the frozen base holds its blocks' projections: fp32 or bf16 (computed in fp32).") var base: BaseDType?
    @Option(help: "Seed of weights and tokens.") var seed: UInt64 = 0
    @Option(help: "lora-ppo: prompts of the iteration (one response each).") var prompts = 2
    @Option(help: "lora-ppo: new tokens per response (the prompts fill the rest of --seq-len).") var newTokens = 64
    @Option(help: "lora-ppo: PPO epochs over the iteration's responses.") var epochs = 1

    func run() throws {
        let start = monotonicSeconds()
        var settings = try LoRASettings(parsing: lora)
        if let base { settings.baseDType = base }
        if mode == .loraPPO {
            var figures = try LoRAPPOMemoryBench.run(config: preset.config, seqLen: seqLen, prompts: prompts, newTokens: newTokens, epochs: epochs,
                                                     lora: settings, seed: seed)
            for (k, v) in ["benchmark": "memory", "preset": preset.rawValue, "mode": mode.rawValue, "seq_len": seqLen, "lora": lora,
                           "base": settings.baseDType.rawValue] as [String: Any] {
                figures[k] = v
            }
            figures["peak_rss_bytes"] = peakRSSBytes() ?? -1
            try printJSON(figures)
            return
        }
        let result = try LoRAMemoryBenchmark.run(config: preset.config, mode: mode, seqLen: seqLen, steps: steps,
                                                 lora: settings, seed: seed)
        let sorted = result.stepSeconds.sorted()
        try printJSON([
            "benchmark": "memory", "preset": preset.rawValue, "mode": mode.rawValue, "seq_len": seqLen, "lora": lora,
            "step_seconds": result.stepSeconds, "median_step_seconds": sorted[sorted.count / 2],
            "base_parameters": result.baseScalars, "base_bytes": result.baseBytes,
            "base": mode == .fullSFT ? BaseDType.fp32.rawValue : settings.baseDType.rawValue, "trained_parameters": result.trainedScalars,
            "optimizer_bytes": result.optimizerBytes, "gradient_bytes": result.gradientBytes,
            "losses": result.losses.map(Double.init), "peak_rss_bytes": peakRSSBytes() ?? -1,
            "wall_seconds": monotonicSeconds() - start,
        ])
    }
}
