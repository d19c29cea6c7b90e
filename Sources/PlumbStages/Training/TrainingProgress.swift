// Events a training stage reports while it runs; the caller decides how to show them
// (a terminal progress line, plain log lines, nothing in tests). STYLE.md habit 6.

/// One optimiser step's figures.
public struct StepReport: Codable, Equatable, Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Float
    public var learningRate: Float
    public var gradNorm: Float
    /// Tokens processed by this step (all micro-batches), and the throughput since the stage began.
    public var tokens: Int
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    /// Extra per-step figures of a stage (e.g. reward accuracy on the batch).
    public var extra: [String: Double]
    /// The loss or the gradient norm was not finite, so this step changed no weight.
    public var skipped: Bool = false

    /// Seconds left at the current pace.
    public var etaSeconds: Double {
        guard step > 0 else { return 0 }
        return elapsedSeconds / Double(step) * Double(max(totalSteps - step, 0))
    }
}

/// A validation pass's figures (TigerBot's quick preview: loss and next-token accuracy).
public struct EvaluationReport: Codable, Equatable, Sendable {
    public var step: Int
    public var metrics: [String: Double]
}

public enum TrainingProgress: Sendable {
    case started(totalSteps: Int, resumedAtStep: Int)
    case step(StepReport)
    case evaluation(EvaluationReport)
    case checkpoint(step: Int, path: String)
    case finished(step: Int)
}

public typealias ProgressHandler = (TrainingProgress) -> Void
