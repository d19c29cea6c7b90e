// The optimisation options every training stage embeds: batch shape, passes over the data, the data
// order's seed, AdamW, the learning-rate schedule, clipping, checkpoints and evaluations. Defaults
// are Llama 2's published settings (METHODS.md section 2: AdamW 0.9 / 0.95, eps 1e-5, weight decay
// 0.1, clip 1.0, cosine with ~3% warm-up decaying to 10% of the peak); a stage's `Parameters()` sets
// its own learning rate and batch shape.
import PlumbTensor

public struct OptimisationGroup: ParameterGroup, Equatable {
    /// Tokens per row.
    public var seqLen = 128
    /// Rows per micro-batch (each of seqLen tokens).
    public var rows = 16
    /// Passes over the training data.
    public var epochs = 2
    /// Seed of the data order (and of a mixture's pick).
    public var seed: UInt64 = 1
    /// Peak learning rate.
    public var lr: Float = 2e-5
    public var schedule: ScheduleKind = .cosine
    /// Warm-up steps as a share of all optimiser steps.
    public var warmupRatio: Float = 0.03
    /// Floor of a decaying schedule, as a share of the peak.
    public var minLrRatio: Float = 0.1
    /// AdamW's decoupled weight decay.
    public var weightDecay: Float = 0.1
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var eps: Float = 1e-5
    /// Clip gradients to this global norm (0: off).
    public var maxGradNorm: Float = 1.0
    /// Micro-batches per optimiser step.
    public var gradientAccumulation = 1
    /// Save a checkpoint every N steps (and at the end; 0: only at the end).
    public var checkpointEvery = 200
    /// Evaluate on the validation split every N steps (and at the end; 0: only at the end).
    public var evalEvery = 100
    /// Checkpoints kept on disk, newest first.
    public var keepCheckpoints = 2
    /// Stop after this many steps in a row with a non-finite loss or gradient (each is skipped).
    public var maxNonFiniteSteps = 5

    public init() {}
    public init(lr: Float, seqLen: Int = 128, rows: Int = 16, epochs: Int = 2) {
        self.lr = lr
        self.seqLen = seqLen
        self.rows = rows
        self.epochs = epochs
    }

    /// The training loop's settings (set: every loop setting taken from `newValue`).
    public var loop: LoopSettings {
        get {
            LoopSettings(
                optimization: OptimizationSettings(
                    learningRate: lr, schedule: schedule, warmupRatio: warmupRatio, minLearningRateRatio: minLrRatio,
                    adam: AdamWConfig(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay),
                    maxGradNorm: maxGradNorm, gradientAccumulation: gradientAccumulation),
                checkpointEvery: checkpointEvery, evaluateEvery: evalEvery, keepCheckpoints: keepCheckpoints,
                maxConsecutiveNonFinite: maxNonFiniteSteps)
        }
        set {
            let o = newValue.optimization
            (lr, schedule, warmupRatio, minLrRatio, maxGradNorm, gradientAccumulation) =
                (o.learningRate, o.schedule, o.warmupRatio, o.minLearningRateRatio, o.maxGradNorm, o.gradientAccumulation)
            (beta1, beta2, eps, weightDecay) = (o.adam.beta1, o.adam.beta2, o.adam.eps, o.adam.weightDecay)
            (checkpointEvery, evalEvery, keepCheckpoints, maxNonFiniteSteps) =
                (newValue.checkpointEvery, newValue.evaluateEvery, newValue.keepCheckpoints, newValue.maxConsecutiveNonFinite)
        }
    }

    /// Throws naming the key of the first value out of range.
    public func validate() throws {
        guard seqLen > 1 else { throw StageParameterError("seq-len", "must be > 1") }
        guard rows > 0 else { throw StageParameterError("rows", "must be > 0") }
        guard epochs > 0 else { throw StageParameterError("epochs", "must be > 0") }
        guard lr > 0, lr.isFinite else { throw StageParameterError("lr", "must be a positive number") }
        guard (0...1).contains(warmupRatio) else { throw StageParameterError("warmup-ratio", "must be in [0, 1]") }
        guard maxGradNorm >= 0 else { throw StageParameterError("max-grad-norm", "must be >= 0") }
        guard gradientAccumulation >= 1 else { throw StageParameterError("gradient-accumulation", "must be >= 1") }
        guard checkpointEvery >= 0 else { throw StageParameterError("checkpoint-every", "must be >= 0") }
        guard evalEvery >= 0 else { throw StageParameterError("eval-every", "must be >= 0") }
        guard keepCheckpoints >= 1 else { throw StageParameterError("keep-checkpoints", "must be >= 1") }
        guard maxNonFiniteSteps >= 1 else { throw StageParameterError("max-non-finite-steps", "must be >= 1") }
    }
}
