// `plumb bench memory --mode lora-sft|lora-dpo|full-sft`: one training step's peak RSS and time with
// LoRA on a frozen base or with every parameter trained (LoRAMemoryBenchmark), random weights. Run one
// process per mode: the peak RSS is the process's. (`--mode lora-ppo` runs PPO's stage code:
// LoRAPPOMemoryBench in PlumbStages.)
import Foundation
import PlumbFiles
import PlumbTensor

public enum MemoryBench {
    public struct Options: Sendable {
        public var preset: LlamaPreset = .tinyLlama1b
        public var mode: LoRAMemoryBenchmark.Mode = .loraSFT
        public var seqLen = 512
        /// Timed steps (after one warm-up step).
        public var steps = 2
        /// LoRA settings text (rank=8 alpha=16 targets=all-linear by default: "on").
        public var lora = "on"
        /// How the frozen base holds its projections; nil: the LoRA settings' own.
        public var base: BaseDType?
        public var seed: UInt64 = 0
        /// lora-ppo only: prompts of the iteration (one response each), new tokens per response, PPO epochs.
        public var prompts = 2
        public var newTokens = 64
        public var epochs = 1
        public init() {}

        /// The LoRA settings `lora` and `base` give.
        public func loraSettings() throws -> LoRASettings {
            var settings = try LoRASettings(parsing: lora)
            if let base { settings.baseDType = base }
            return settings
        }
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "memory"
        public var preset: String
        public var mode: String
        public var seqLen: Int
        public var lora: String
        public var stepSeconds: [Double]
        /// The upper middle of the sorted step times (the middle one for an odd count).
        public var medianStepSeconds: Double
        public var baseParameters: Int
        public var baseBytes: Int
        public var base: String
        public var trainedParameters: Int
        public var optimizerBytes: Int
        public var gradientBytes: Int
        public var losses: [Double]
        public var peakRSSBytes: Int
        public var wallSeconds: Double
        enum CodingKeys: String, CodingKey {
            case benchmark, preset, mode, seqLen = "seq_len", lora, stepSeconds = "step_seconds", medianStepSeconds = "median_step_seconds"
            case baseParameters = "base_parameters", baseBytes = "base_bytes", base, trainedParameters = "trained_parameters"
            case optimizerBytes = "optimizer_bytes", gradientBytes = "gradient_bytes", losses, peakRSSBytes = "peak_rss_bytes", wallSeconds = "wall_seconds"
        }
    }

    public static func run(_ o: Options) throws -> Report {
        let start = monotonicSeconds()
        let settings = try o.loraSettings()
        let result = try LoRAMemoryBenchmark.run(config: o.preset.config, mode: o.mode, seqLen: o.seqLen, steps: o.steps, lora: settings, seed: o.seed)
        let sorted = result.stepSeconds.sorted()
        return Report(preset: o.preset.rawValue, mode: o.mode.rawValue, seqLen: o.seqLen, lora: o.lora, stepSeconds: result.stepSeconds,
                      medianStepSeconds: sorted[sorted.count / 2], baseParameters: result.baseScalars, baseBytes: result.baseBytes,
                      base: o.mode == .fullSFT ? BaseDType.fp32.rawValue : settings.baseDType.rawValue, trainedParameters: result.trainedScalars,
                      optimizerBytes: result.optimizerBytes, gradientBytes: result.gradientBytes, losses: result.losses.map(Double.init),
                      peakRSSBytes: peakRSSBytes() ?? -1, wallSeconds: monotonicSeconds() - start)
    }
}
