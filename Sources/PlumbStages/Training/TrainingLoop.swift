// The optimisation loop every training stage shares: for each planned step, zero the gradients,
// run the objective's forward and backward over each micro-batch (gradients add up, each scaled by
// 1 / micro-batches), clip by global norm, take an AdamW step at the scheduled learning rate;
// evaluate and checkpoint every N steps. A rerun resumes from the newest checkpoint and, because the
// plan and the schedule are functions of the step, ends with the same weights bit for bit.
import Foundation
import PlumbModel
import PlumbTensor

/// A loss over micro-batches of example indices, evaluated and differentiated by the stage.
public protocol TrainingObjective: AnyObject {
    /// Forward and backward over the examples `indices`, adding `scale` times the gradient of the
    /// micro-batch's loss into the model's gradient arena.
    func accumulate(indices: [Int], scale: Float) throws -> MicroBatchResult
    /// Validation figures at the current weights (empty when there is no validation set).
    func evaluate() throws -> [String: Double]
}

public struct MicroBatchResult: Sendable {
    public var loss: Float
    public var tokens: Int
    public var extra: [String: Double]
    public init(loss: Float, tokens: Int, extra: [String: Double] = [:]) {
        self.loss = loss; self.tokens = tokens; self.extra = extra
    }
}

public struct LoopSettings: Codable, Equatable, Sendable {
    public var optimization: OptimizationSettings
    /// Save a checkpoint every this many steps (and at the end); 0 = only at the end.
    public var checkpointEvery: Int
    /// Evaluate every this many steps (and at the end); 0 = only at the end.
    public var evaluateEvery: Int
    /// Checkpoints kept on disk (newest first).
    public var keepCheckpoints: Int

    public init(optimization: OptimizationSettings = OptimizationSettings(), checkpointEvery: Int = 200,
                evaluateEvery: Int = 100, keepCheckpoints: Int = 2) {
        self.optimization = optimization
        self.checkpointEvery = checkpointEvery
        self.evaluateEvery = evaluateEvery
        self.keepCheckpoints = keepCheckpoints
    }
}

public struct TrainingSummary: Sendable {
    public var steps: Int
    public var resumedAtStep: Int
    public var tokens: Int
    public var seconds: Double
    public var finalLoss: Float
    /// Validation figures before the first step (empty when resumed or without a validation set).
    public var initialEvaluation: [String: Double]
    public var finalEvaluation: [String: Double]
    /// Tokens per second over the steps this process ran.
    public var tokensPerSecond: Double
}

public final class TrainingLoop {
    let model: LlamaModel
    let plan: BatchPlan
    let settings: LoopSettings
    let checkpointRoot: URL

    public init(model: LlamaModel, plan: BatchPlan, settings: LoopSettings, checkpointRoot: URL) throws {
        try settings.optimization.validate()
        self.model = model
        self.plan = plan
        self.settings = settings
        self.checkpointRoot = checkpointRoot
    }

    public func run(_ objective: TrainingObjective, progress: ProgressHandler = { _ in }) throws -> TrainingSummary {
        let total = plan.totalSteps
        let optimizer = AdamW(parameters: model.parameters, config: settings.optimization.adam)
        let schedule = try settings.optimization.learningRateSchedule(totalSteps: total)
        let resumed = try TrainingCheckpoint.restoreLatest(root: checkpointRoot, model: model, optimizer: optimizer, totalSteps: total)
        var step = resumed?.step ?? 0
        var tokens = resumed?.tokens ?? 0
        let startStep = step, startTokens = tokens
        progress(.started(totalSteps: total, resumedAtStep: step))
        var initialEvaluation = resumed?.initialEvaluation ?? [:]
        if step == 0 {
            // The starting point's validation figures, so a stage shows what training changed.
            initialEvaluation = try objective.evaluate()
            if !initialEvaluation.isEmpty { progress(.evaluation(EvaluationReport(step: 0, metrics: initialEvaluation))) }
        }
        let start = monotonicNow()
        var lastLoss: Float = .nan
        var lastEvaluation: [String: Double] = [:]
        while step < total {
            let report = try takeStep(step, objective: objective, optimizer: optimizer, schedule: schedule)
            step += 1
            tokens += report.tokens
            lastLoss = report.loss
            let elapsed = monotonicNow() - start
            progress(.step(StepReport(step: step, totalSteps: total, loss: report.loss, learningRate: report.lr,
                                      gradNorm: report.gradNorm, tokens: report.tokens,
                                      tokensPerSecond: Double(tokens - startTokens) / max(elapsed, 1e-9),
                                      elapsedSeconds: elapsed, extra: report.extra)))
            FaultInjection.killIfRequested(afterStep: step)
            if step == total || (settings.evaluateEvery > 0 && step % settings.evaluateEvery == 0) {
                lastEvaluation = try objective.evaluate()
                if !lastEvaluation.isEmpty { progress(.evaluation(EvaluationReport(step: step, metrics: lastEvaluation))) }
            }
            if step == total || (settings.checkpointEvery > 0 && step % settings.checkpointEvery == 0) {
                let state = TrainerState(step: step, totalSteps: total, optimizer: try optimizer.saveState(parameters: model.parameters, rng: nil).header, tokens: tokens,
                                         initialEvaluation: initialEvaluation)
                let dir = try TrainingCheckpoint.save(model: model, optimizer: optimizer, state: state, root: checkpointRoot, keep: settings.keepCheckpoints)
                progress(.checkpoint(step: step, path: dir.path))
            }
        }
        if startStep == total, lastEvaluation.isEmpty { lastEvaluation = try objective.evaluate() }
        progress(.finished(step: step))
        let seconds = monotonicNow() - start
        return TrainingSummary(steps: total, resumedAtStep: startStep, tokens: tokens, seconds: seconds, finalLoss: lastLoss,
                               initialEvaluation: initialEvaluation, finalEvaluation: lastEvaluation,
                               tokensPerSecond: Double(tokens - startTokens) / max(seconds, 1e-9))
    }

    private struct StepFigures { var loss: Float; var tokens: Int; var lr: Float; var gradNorm: Float; var extra: [String: Double] }

    /// One optimiser step over the micro-batches planned for `step` (0-based).
    private func takeStep(_ step: Int, objective: TrainingObjective, optimizer: AdamW, schedule: LearningRateSchedule) throws -> StepFigures {
        let microBatches = plan.steps[step]
        let scale = 1 / Float(microBatches.count)
        model.parameters.zeroGrad()
        var loss: Float = 0, tokens = 0
        var extra: [String: Double] = [:]
        for indices in microBatches {
            let r = try objective.accumulate(indices: indices, scale: scale)
            loss += r.loss * scale
            tokens += r.tokens
            for (k, v) in r.extra { extra[k, default: 0] += v * Double(scale) }
        }
        let maxNorm = settings.optimization.maxGradNorm
        let norm = maxNorm > 0 ? GradientClipping.clip(model.parameters, maxNorm: maxNorm) : GradientClipping.globalNorm(model.parameters)
        // The schedule is indexed by the step being taken, 0-based (warm-up starts at step 0).
        let lr = schedule.learningRate(at: step)
        try optimizer.update(model.parameters, learningRate: lr)
        return StepFigures(loss: loss, tokens: tokens, lr: lr, gradNorm: norm, extra: extra)
    }
}

@inline(__always) func monotonicNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// A test hook: with `PLUMB_KILL_AFTER_STEP=N` in the environment, the process SIGKILLs itself right
/// after optimiser step N, before any checkpoint of that step - a real kill at a known point.
enum FaultInjection {
    static let killAfterStep: Int? = ProcessInfo.processInfo.environment["PLUMB_KILL_AFTER_STEP"].flatMap(Int.init)

    static func killIfRequested(afterStep step: Int) {
        if let k = killAfterStep, k == step { kill(getpid(), SIGKILL) }
    }
}
