// `plumb bench train`: training-step throughput and its fraction of the sgemm ceiling, one JSON line.
import ArgumentParser
import PlumbModel
import PlumbTensor

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training-step throughput (forward, backward, clip, AdamW) against the sgemm ceiling measured in the same run.")

    @Option(help: "Model shape.") var preset: LlamaPreset = .stories15m
    @Option(help: "Sequences per batch.") var batchSize: Int = 8
    @Option(help: "Tokens per sequence.") var seqLen: Int = 256
    @Option(help: "Timed steps (after one warm-up step).") var steps: Int = 3
    @Option(help: "Seed of weights and tokens.") var seed: UInt64 = 0
    @Flag(help: "Time each kind of kernel during the timed steps (StepProfile): seconds per step and share of the step.")
    var profile = false

    func validate() throws {
        guard batchSize > 0, seqLen > 0, steps > 0 else { throw ValidationError("--batch-size, --seq-len and --steps must be positive") }
    }

    func run() throws {
        let config = try BenchBudget.config(preset, seqLen: seqLen)
        try BenchBudget.checkFits("bench train --preset \(preset.rawValue) (batch \(batchSize) x \(seqLen))",
                                  bytes: BenchBudget.trainingBytes(config, batchSize: batchSize, seqLen: seqLen))
        // The engine's ceiling probe (square sgemm of 1024 and 2048), before and after the steps; the
        // faster is the ceiling, so a machine that got busier mid-run does not flatter the fraction.
        let before = GemmBenchmark.ceiling(sizes: [1024, 2048], repetitions: 3)
        let phases = profile ? StepProfile() : nil
        let result = try ModelBenchmarks.train(config: config, batchSize: batchSize, seqLen: seqLen, steps: steps, seed: seed, profile: phases)
        let after = GemmBenchmark.ceiling(sizes: [1024, 2048], repetitions: 3)
        let ceiling = max(before.gflops, after.gflops)
        var out: [String: Any] = [
            "benchmark": "train", "threads": EngineThreads.cores, "preset": preset.rawValue, "batch_size": batchSize, "seq_len": seqLen, "steps": steps,
            "tokens_per_second": result.tokensPerSecond, "step_seconds": result.stepSeconds,
            "model_gflop_per_step": result.flopsPerStep / 1e9, "achieved_gflops": result.achievedGflops,
            "sgemm_ceiling_gflops": ceiling, "fraction_of_ceiling": result.achievedGflops / ceiling,
            "flop_count": "6*N*tokens + 12*L*T*C*tokens (PaLM appendix B; N = block matrices + LM head)",
            "final_loss": Double(result.finalLoss), "peak_rss_bytes": peakRSSBytes() ?? -1,
            "estimated_bytes": BenchBudget.trainingBytes(config, batchSize: batchSize, seqLen: seqLen),
        ]
        if let phases { out["profile"] = Self.table(phases, steps: steps, stepSeconds: result.stepSeconds) }
        try printJSON(out)
    }

    /// Each phase's seconds per step and share of the step; `other` is the step's untimed rest.
    static func table(_ profile: StepProfile, steps: Int, stepSeconds: Double) -> [String: Any] {
        var rows: [String: Any] = [:]
        var timed = 0.0
        for phase in StepPhase.allCases {
            let perStep = (profile.seconds[phase] ?? 0) / Double(steps)
            timed += perStep
            rows[phase.rawValue] = ["seconds": perStep, "share": perStep / stepSeconds]
        }
        rows["other"] = ["seconds": stepSeconds - timed, "share": (stepSeconds - timed) / stepSeconds]
        return rows
    }
}
