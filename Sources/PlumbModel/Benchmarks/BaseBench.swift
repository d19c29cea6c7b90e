// `plumb bench base`: a bf16 frozen base against the fp32 one it is rounded from (BaseDTypeBenchmark):
// held-out log-likelihood per token, and LoRA SFT step time alternated fp32 / bf16 in one process.
// The sequences are a checkpoint's encoded passages (the command reads them) or random tokens for a
// preset's shape with random weights (`randomModel`).
import Foundation
import PlumbFiles
import PlumbTensor

public enum BaseBench {
    public struct Options: Sendable {
        /// Tokens per sequence for the step timing.
        public var seqLen = 256
        /// Alternated rounds of timed steps (one fp32 and one bf16 step each).
        public var rounds = 3
        /// LoRA settings text of the timed steps.
        public var lora = "on"
        /// Seed of the adapters.
        public var seed: UInt64 = 0
        public init() {}
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "base"
        public var model: String
        public var passages: Int
        public var predictedTokens: Int
        public var loglikPerTokenFP32: Double, loglikPerTokenBF16: Double, loglikPerTokenDifference: Double
        public var weightRounding: String
        public var baseBytesFP32: Int, baseBytesBF16: Int
        public var stepTokens: Int
        public var stepSecondsFP32: [Double], stepSecondsBF16: [Double]
        public var medianStepRatioBF16OverFP32: Double
        public var lastLossFP32: Double, lastLossBF16: Double
        public var loadAverage: String
        enum CodingKeys: String, CodingKey {
            case benchmark, model, passages, predictedTokens = "predicted_tokens", loglikPerTokenFP32 = "loglik_per_token_fp32"
            case loglikPerTokenBF16 = "loglik_per_token_bf16", loglikPerTokenDifference = "loglik_per_token_difference"
            case weightRounding = "weight_rounding", baseBytesFP32 = "base_bytes_fp32", baseBytesBF16 = "base_bytes_bf16", stepTokens = "step_tokens"
            case stepSecondsFP32 = "step_seconds_fp32", stepSecondsBF16 = "step_seconds_bf16", medianStepRatioBF16OverFP32 = "median_step_ratio_bf16_over_fp32"
            case lastLossFP32 = "last_loss_fp32", lastLossBF16 = "last_loss_bf16", loadAverage = "load_average"
        }
    }

    /// A preset's shape (its rotary table checked against `seqLen`) with random weights (std 0.02,
    /// frozen) and `sequences` random sequences of `seqLen` tokens.
    public static func randomModel(_ preset: LlamaPreset, seqLen: Int, sequences: Int, seed: UInt64) throws -> (LlamaModel, [[Int32]]) {
        let config = try BenchBudget.config(preset, seqLen: seqLen)
        let model = try LlamaModel(config: config, heads: .lm, gradients: false)
        model.initialize(seed: seed)
        var rng = SeededRNG(seed: seed &+ 1)
        let passages = (0..<sequences).map { _ in (0..<seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) } }
        return (model, passages)
    }

    /// `fp32` (frozen) and its bf16 rounding on `passages`; the timed steps on the first `seqLen` of their tokens.
    public static func run(fp32: LlamaModel, passages: [[Int32]], modelName: String, _ o: Options) throws -> Report {
        let bf16 = try LlamaModel.bf16(rounding: fp32)
        let llFP32 = try BaseDTypeBenchmark.logLikelihood(fp32, passages)
        let llBF16 = try BaseDTypeBenchmark.logLikelihood(bf16, passages)
        let stepTokens = Array(passages.flatMap { $0 }.prefix(o.seqLen))
        var settings = try LoRASettings(parsing: o.lora)
        settings.baseDType = .fp32
        let steps = try BaseDTypeBenchmark.alternatedSteps(fp32: fp32, bf16: bf16, tokens: stepTokens, rounds: o.rounds, lora: settings, seed: o.seed)
        return Report(model: modelName, passages: passages.count, predictedTokens: llFP32.tokens,
                      loglikPerTokenFP32: llFP32.perToken, loglikPerTokenBF16: llBF16.perToken,
                      loglikPerTokenDifference: llBF16.perToken - llFP32.perToken, weightRounding: bf16.bf16Rounding!.summary,
                      baseBytesFP32: fp32.weightBytes, baseBytesBF16: bf16.weightBytes, stepTokens: stepTokens.count,
                      stepSecondsFP32: steps.fp32, stepSecondsBF16: steps.bf16,
                      medianStepRatioBF16OverFP32: median(steps.bf16) / median(steps.fp32),
                      lastLossFP32: Double(steps.losses.fp32), lastLossBF16: Double(steps.losses.bf16), loadAverage: loadAverageText())
    }
}
