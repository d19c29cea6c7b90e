// `plumb bench train`: training-step throughput (forward, backward, clip, AdamW; ModelBenchmarks.train)
// against the sgemm ceiling measured in the same run: the engine's probe (square sgemm of 1024 and
// 2048) before and after the steps, the faster the ceiling, so a machine that got busier mid-run does
// not flatter the fraction.
import Foundation
import PlumbFiles
import PlumbTensor

public enum TrainBench {
    public struct Options: Sendable {
        public var preset: LlamaPreset = .stories15m
        public var batchSize = 8
        public var seqLen = 256
        /// Timed steps (after one warm-up step).
        public var steps = 3
        public var seed: UInt64 = 0
        /// Time each kind of kernel during the timed steps (StepProfile).
        public var profile = false
        /// The ceiling probe's square sizes.
        public var ceilingSizes = [1024, 2048]
        public init() {}
    }

    /// A phase's seconds per step and its share of the step.
    public struct PhaseShare: Codable, Sendable, Equatable {
        public var seconds: Double
        public var share: Double
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "train"
        public var threads: Int
        public var preset: String
        public var batchSize: Int, seqLen: Int, steps: Int
        public var tokensPerSecond: Double
        public var stepSeconds: Double
        public var modelGflopPerStep: Double
        public var achievedGflops: Double
        public var sgemmCeilingGflops: Double
        public var fractionOfCeiling: Double
        public var flopCount = "6*N*tokens + 12*L*T*C*tokens (PaLM appendix B; N = block matrices + LM head)"
        public var finalLoss: Double
        public var peakRSSBytes: Int
        public var estimatedBytes: Int
        /// With `profile`: each StepPhase and `other` (the step's untimed rest).
        public var profile: [String: PhaseShare]?
        enum CodingKeys: String, CodingKey {
            case benchmark, threads, preset, batchSize = "batch_size", seqLen = "seq_len", steps, tokensPerSecond = "tokens_per_second"
            case stepSeconds = "step_seconds", modelGflopPerStep = "model_gflop_per_step", achievedGflops = "achieved_gflops"
            case sgemmCeilingGflops = "sgemm_ceiling_gflops", fractionOfCeiling = "fraction_of_ceiling", flopCount = "flop_count"
            case finalLoss = "final_loss", peakRSSBytes = "peak_rss_bytes", estimatedBytes = "estimated_bytes", profile
        }
    }

    /// Refuses a shape beyond the preset's rotary table or above MemAvailable, then measures.
    public static func run(_ o: Options) throws -> Report {
        let config = try BenchBudget.config(o.preset, seqLen: o.seqLen)
        let estimated = BenchBudget.trainingBytes(config, batchSize: o.batchSize, seqLen: o.seqLen)
        try BenchBudget.checkFits("bench train --preset \(o.preset.rawValue) (batch \(o.batchSize) x \(o.seqLen))", bytes: estimated)
        let before = GemmBenchmark.ceiling(sizes: o.ceilingSizes, repetitions: 3)
        let phases = o.profile ? StepProfile() : nil
        let result = try ModelBenchmarks.train(config: config, batchSize: o.batchSize, seqLen: o.seqLen, steps: o.steps, seed: o.seed, profile: phases)
        let after = GemmBenchmark.ceiling(sizes: o.ceilingSizes, repetitions: 3)
        let ceiling = max(before.gflops, after.gflops)
        return Report(threads: EngineThreads.cores, preset: o.preset.rawValue, batchSize: o.batchSize, seqLen: o.seqLen, steps: o.steps,
                      tokensPerSecond: result.tokensPerSecond, stepSeconds: result.stepSeconds, modelGflopPerStep: result.flopsPerStep / 1e9,
                      achievedGflops: result.achievedGflops, sgemmCeilingGflops: ceiling, fractionOfCeiling: result.achievedGflops / ceiling,
                      finalLoss: Double(result.finalLoss), peakRSSBytes: peakRSSBytes() ?? -1, estimatedBytes: estimated,
                      profile: phases.map { table($0, steps: o.steps, stepSeconds: result.stepSeconds) })
    }

    /// Each phase's seconds per step and share of the step; `other` is the step's untimed rest.
    public static func table(_ profile: StepProfile, steps: Int, stepSeconds: Double) -> [String: PhaseShare] {
        var rows: [String: PhaseShare] = [:]
        var timed = 0.0
        for phase in StepPhase.allCases {
            let perStep = (profile.seconds[phase] ?? 0) / Double(steps)
            timed += perStep
            rows[phase.rawValue] = PhaseShare(seconds: perStep, share: perStep / stepSeconds)
        }
        rows["other"] = PhaseShare(seconds: stepSeconds - timed, share: (stepSeconds - timed) / stepSeconds)
        return rows
    }
}
