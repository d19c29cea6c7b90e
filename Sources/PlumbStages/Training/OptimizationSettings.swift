// The optimisation settings every training stage shares, with Llama 2's published values as defaults
// (METHODS.md section 2): AdamW (0.9, 0.95, eps 1e-5), weight decay 0.1, clip 1.0, cosine schedule
// with ~3% warm-up decaying to 10% of the peak.
import PlumbTensor

public struct OptimizationSettings: Codable, Equatable, Sendable {
    public var learningRate: Float
    public var schedule: ScheduleKind
    /// Warm-up as a share of all optimiser steps.
    public var warmupRatio: Float
    /// The floor of a decaying schedule, as a share of the peak.
    public var minLearningRateRatio: Float
    public var adam: AdamWConfig
    /// Maximum global gradient norm; 0 turns clipping off.
    public var maxGradNorm: Float
    /// Micro-batches whose gradients add up to one optimiser step.
    public var gradientAccumulation: Int

    public init(learningRate: Float = 2e-5, schedule: ScheduleKind = .cosine, warmupRatio: Float = 0.03,
                minLearningRateRatio: Float = 0.1, adam: AdamWConfig = AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: 0.1),
                maxGradNorm: Float = 1.0, gradientAccumulation: Int = 1) {
        self.learningRate = learningRate
        self.schedule = schedule
        self.warmupRatio = warmupRatio
        self.minLearningRateRatio = minLearningRateRatio
        self.adam = adam
        self.maxGradNorm = maxGradNorm
        self.gradientAccumulation = gradientAccumulation
    }

    /// The learning-rate schedule over `totalSteps` optimiser steps.
    public func learningRateSchedule(totalSteps: Int) throws -> LearningRateSchedule {
        let warmup = Int((Float(totalSteps) * warmupRatio).rounded())
        return try LearningRateSchedule(kind: schedule, peak: learningRate, warmupSteps: warmup,
                                        totalSteps: max(totalSteps, 1), minRatio: minLearningRateRatio)
    }

    public func validate() throws {
        guard learningRate > 0, learningRate.isFinite else { throw StageError("learning rate must be positive, got \(learningRate)") }
        guard gradientAccumulation >= 1 else { throw StageError("gradient accumulation must be at least 1, got \(gradientAccumulation)") }
        guard (0...1).contains(warmupRatio) else { throw StageError("warm-up ratio must be in [0, 1], got \(warmupRatio)") }
        guard maxGradNorm >= 0 else { throw StageError("max grad norm must be >= 0, got \(maxGradNorm)") }
    }
}

/// An error of a stage's configuration or inputs, said plainly.
public struct StageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
