// `plumb bench memory --preset 1b --mode lora-sft|lora-dpo|full-sft|lora-ppo`: the flags of MemoryBench
// (PlumbModel/Benchmarks) and, for lora-ppo, LoRAPPOMemoryBench (PlumbStages/Benchmarks); the report
// as one JSON line. Run one process per mode: the peak RSS is the process's.
import ArgumentParser
import PlumbModel
import PlumbStages

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
        var o = MemoryBench.Options()
        (o.preset, o.mode, o.seqLen, o.steps, o.lora, o.base, o.seed) = (preset, mode, seqLen, steps, lora, base, seed)
        (o.prompts, o.newTokens, o.epochs) = (prompts, newTokens, epochs)
        if mode == .loraPPO {
            try printReport(LoRAPPOMemoryBench.run(o))
        } else {
            try printReport(MemoryBench.run(o))
        }
    }
}
