// The optimisation loop of every stage with a precomputed batch plan (pretrain, SFT, reward models,
// DPO): for each planned step, zero the gradients, run the objective's forward and backward over each
// micro-batch, then the Trainer's step (clip by global norm, AdamW at the scheduled learning rate);
// evaluate and checkpoint every N steps. A rerun resumes from the
// newest checkpoint and, because the plan and the schedule are functions of the step, ends with the
// same weights bit for bit.
//
// Accumulation weights each micro-batch by its loss units u_i (target tokens for a language model,
// pairs for a reward model), so a step's objective is the mean over all its units whatever the split:
//   L = Σ_i (u_i / Σ_j u_j) · L_i,   L_i the mean over micro-batch i's units
// (accumulation 2 x rows 4 is the objective of rows 8; the averaging bug transformers fixed in 2024).
//
// Data parallel (`Distributed.world` of N processes): the plan, and so the global batch and the data
// order, is the same for every N. Rank r takes the micro-batches j ≡ r (mod N) of every step; the
// ranks sum their micro-batches' loss units first, so every micro-batch carries u_i / Σ_all u_j as one
// process would give it, and the Trainer sums the gradients. The step's loss, tokens and figures are
// summed over the ranks. Each step's micro-batches (gradient accumulation) must divide evenly over
// the ranks, which is also what lets a checkpoint written with one N resume with another. Rank 0
// alone evaluates, logs and writes checkpoints.
//
// Non-finite guard: a step whose loss or gradient norm is not finite takes no optimiser step (the
// weights and AdamW's moments stay as they were), is counted and reported; `maxConsecutiveNonFinite`
// such steps in a row stop the stage with an error naming the step. A checkpoint refuses to save a
// non-finite weight.
import Foundation
import PlumbModel
import PlumbTensor

/// A loss over micro-batches of example indices, evaluated and differentiated by the stage.
public protocol TrainingObjective: AnyObject {
    /// The units the micro-batch `indices`'s loss is a mean over (target tokens, pairs), known
    /// before its forward pass; they weight the micro-batches of a step.
    func lossUnits(indices: [Int]) -> Int
    /// Forward and backward over the examples `indices`, adding `scale` times the gradient of the
    /// micro-batch's loss (a mean over its loss units) into the model's gradient arena.
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
    /// Steps in a row with a non-finite loss or gradient after which the stage stops.
    public var maxConsecutiveNonFinite: Int

    public init(optimization: OptimizationSettings = OptimizationSettings(), checkpointEvery: Int = 200,
                evaluateEvery: Int = 100, keepCheckpoints: Int = 2, maxConsecutiveNonFinite: Int = 5) {
        self.optimization = optimization
        self.checkpointEvery = checkpointEvery
        self.evaluateEvery = evaluateEvery
        self.keepCheckpoints = keepCheckpoints
        self.maxConsecutiveNonFinite = maxConsecutiveNonFinite
    }
}

public struct TrainingSummary: Codable, Sendable {
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
    /// Steps that took no optimiser step because their loss or gradient was not finite.
    public var nonFiniteSteps: Int
}

public final class TrainingLoop {
    let model: LlamaModel
    /// When set, the loop trains this LoRA adapter over the frozen `model` instead of the model.
    let adapter: LoRAAdapter?
    let plan: BatchPlan
    let settings: LoopSettings
    let checkpointRoot: URL
    let world: any Communicator

    public init(model: LlamaModel, adapter: LoRAAdapter? = nil, plan: BatchPlan, settings: LoopSettings, checkpointRoot: URL,
                world: any Communicator = Distributed.world) throws {
        try settings.optimization.validate()
        try Self.checkDivides(accumulation: settings.optimization.gradientAccumulation, ranks: world.size)
        self.world = world
        self.model = model
        self.adapter = adapter
        self.plan = plan
        self.settings = settings
        self.checkpointRoot = checkpointRoot
    }

    public func run(_ objective: TrainingObjective, progress: ProgressHandler = { _ in }) throws -> TrainingSummary {
        let total = plan.totalSteps
        let trainer = try makeTrainer()
        let resumed = try trainer.restore()
        if let resumed, world.isRoot, (resumed.ranks ?? 1) != world.size {
            FileHandle.standardError.write(Data("plumb: resuming step \(resumed.step), written by \(resumed.ranks ?? 1) process(es), with \(world.size): each step's \(settings.optimization.gradientAccumulation) micro-batches now go \(settings.optimization.gradientAccumulation / world.size) to a rank; the global batch and the data order are unchanged\n".utf8))
        }
        var step = resumed?.step ?? 0
        var tokens = resumed?.tokens ?? 0
        var guardRail = NonFiniteGuard(limit: settings.maxConsecutiveNonFinite, total: resumed?.nonFiniteSteps ?? 0)
        let startStep = step, startTokens = tokens
        progress(.started(totalSteps: total, resumedAtStep: step))
        var initialEvaluation = resumed?.initialEvaluation ?? [:]
        if step == 0 {
            // The starting point's validation figures, so a stage shows what training changed.
            initialEvaluation = try evaluate(objective)
            if !initialEvaluation.isEmpty { progress(.evaluation(EvaluationReport(step: 0, metrics: initialEvaluation))) }
        }
        let start = monotonicNow()
        var lastLoss: Float = .nan
        var lastEvaluation: [String: Double] = [:]
        while step < total {
            let report = try takeStep(step, objective: objective, trainer: trainer)
            step += 1
            tokens += report.tokens
            try guardRail.record(skipped: report.skipped, where: "step \(step) of \(total)",
                                 detail: "loss \(report.loss), gradient norm \(report.gradNorm)", checkpoints: checkpointRoot)
            if !report.skipped { lastLoss = report.loss }
            let elapsed = monotonicNow() - start
            progress(.step(StepReport(step: step, totalSteps: total, loss: report.loss, learningRate: report.lr,
                                      gradNorm: report.gradNorm, tokens: report.tokens,
                                      tokensPerSecond: Double(tokens - startTokens) / max(elapsed, 1e-9),
                                      elapsedSeconds: elapsed, extra: report.extra, skipped: report.skipped)))
            FaultInjection.killIfRequested(afterStep: step, rank: world.rank)
            if step == total || (settings.evaluateEvery > 0 && step % settings.evaluateEvery == 0) {
                lastEvaluation = try evaluate(objective)
                if !lastEvaluation.isEmpty { progress(.evaluation(EvaluationReport(step: step, metrics: lastEvaluation))) }
            }
            if step == total || (settings.checkpointEvery > 0 && step % settings.checkpointEvery == 0) {
                let dir = try trainer.save(step: step, tokens: tokens, initialEvaluation: initialEvaluation, nonFiniteSteps: guardRail.total)
                progress(.checkpoint(step: step, path: dir.path))
            }
        }
        if startStep == total, lastEvaluation.isEmpty { lastEvaluation = try evaluate(objective) }
        progress(.finished(step: step))
        let seconds = monotonicNow() - start
        return TrainingSummary(steps: total, resumedAtStep: startStep, tokens: tokens, seconds: seconds, finalLoss: lastLoss,
                               initialEvaluation: initialEvaluation, finalEvaluation: lastEvaluation,
                               tokensPerSecond: Double(tokens - startTokens) / max(seconds, 1e-9), nonFiniteSteps: guardRail.total)
    }

    /// The Trainer of the loop: one group (the model, or the adapter over it) over the plan's steps.
    func makeTrainer() throws -> Trainer {
        try Trainer(groups: [Trainer.Group(name: "model", model: model, adapter: adapter, optimization: settings.optimization)],
                    totalSteps: plan.totalSteps, checkpointRoot: checkpointRoot, keepCheckpoints: settings.keepCheckpoints, world: world)
    }

    struct StepFigures {
        var loss: Float; var tokens: Int; var lr: Float; var gradNorm: Float; var extra: [String: Double]
        /// The loss or the gradient norm was not finite: no optimiser step was taken.
        var skipped: Bool
    }

    /// Each micro-batch's share of the step's objective: u_i / Σ u_j by loss units (`total` = Σ u_j
    /// over every micro-batch of the step, on every rank), or equal shares of the step's `count`
    /// micro-batches when none has a unit (its loss is then 0 and its gradient nothing).
    static func microBatchScales(units: [Int], total: Int? = nil, count: Int? = nil) -> [Float] {
        let total = total ?? units.reduce(0, +)
        guard total > 0 else { return units.map { _ in 1 / Float(max(count ?? units.count, 1)) } }
        return units.map { Float($0) / Float(total) }
    }

    /// Refuses a step's micro-batches that do not divide evenly over the ranks.
    static func checkDivides(accumulation: Int, ranks: Int) throws {
        guard ranks > 1, accumulation % ranks != 0 else { return }
        throw StageError("distributed training over \(ranks) processes needs --gradient-accumulation to be a multiple of \(ranks) (each rank takes an equal share of every step's micro-batches; the global batch is rows x accumulation and does not depend on the process count); got \(accumulation). For the same global batch, halve --rows and double --gradient-accumulation, for instance.")
    }

    /// Validation on rank 0; the other ranks report nothing (rank 0 alone logs).
    func evaluate(_ objective: TrainingObjective) throws -> [String: Double] {
        world.isRoot ? try objective.evaluate() : [:]
    }

    /// Zeroes the gradients and adds this rank's share of the gradient of step `step`'s objective over
    /// its micro-batches. Returns the step's weighted loss, tokens processed and weighted extra figures
    /// (over every rank: the extras on rank 0 only).
    func accumulateGradients(_ step: Int, objective: TrainingObjective) throws -> (loss: Float, tokens: Int, extra: [String: Double]) {
        let all = plan.steps[step]
        let microBatches = Sharding.indices(count: all.count, rank: world.rank, size: world.size).map { all[$0] }
        let units = microBatches.map { objective.lossUnits(indices: $0) }
        let total = Int(try world.allreduceSum([Double(units.reduce(0, +))])[0])
        let scales = Self.microBatchScales(units: units, total: total, count: all.count)
        (adapter?.parameters ?? model.parameters).zeroGrad()
        var loss: Float = 0, tokens = 0
        var extra: [String: Double] = [:]
        for (indices, scale) in zip(microBatches, scales) {
            let r = try objective.accumulate(indices: indices, scale: scale)
            loss += r.loss * scale
            tokens += r.tokens
            for (k, v) in r.extra { extra[k, default: 0] += v * Double(scale) }
        }
        guard world.size > 1 else { return (loss, tokens, extra) }
        let sums = try world.allreduceSum([Double(loss), Double(tokens)])
        var merged: [String: Double] = [:]
        for part in try world.gather(extra, root: 0) ?? [] {
            for (k, v) in part { merged[k, default: 0] += v }
        }
        return (Float(sums[0]), Int(sums[1]), merged)
    }

    /// One optimiser step over the micro-batches planned for `step` (0-based); none when the loss or
    /// the gradient norm is not finite.
    func takeStep(_ step: Int, objective: TrainingObjective, trainer: Trainer) throws -> StepFigures {
        let (loss, tokens, extra) = try accumulateGradients(step, objective: objective)
        let update = try trainer.update(step: step, loss: loss)
        return StepFigures(loss: loss, tokens: tokens, lr: update.learningRates[0], gradNorm: update.gradNorms[0], extra: extra,
                           skipped: update.skipped)
    }
}

@inline(__always) func monotonicNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// A test hook: with `PLUMB_KILL_AFTER_STEP=N` in the environment, the process SIGKILLs itself right
/// after optimiser step N, before any checkpoint of that step; with `PLUMB_KILL_AFTER_CHUNK=N`, right
/// after a sampling stage's chunk N is whole - a real kill at a known point. With `PLUMB_KILL_RANK=R`
/// only rank R of a distributed job kills itself.
enum FaultInjection {
    static let killAfterStep: Int? = ProcessInfo.processInfo.environment["PLUMB_KILL_AFTER_STEP"].flatMap(Int.init)
    static let killAfterChunk: Int? = ProcessInfo.processInfo.environment["PLUMB_KILL_AFTER_CHUNK"].flatMap(Int.init)
    static let killRank: Int? = ProcessInfo.processInfo.environment["PLUMB_KILL_RANK"].flatMap(Int.init)

    static func killIfRequested(afterStep step: Int, rank: Int = Distributed.world.rank) {
        if let k = killAfterStep, k == step, killRank == nil || killRank == rank { kill(getpid(), SIGKILL) }
    }

    static func killIfRequested(afterChunk chunk: Int, rank: Int = Distributed.world.rank) {
        if let k = killAfterChunk, k == chunk, killRank == nil || killRank == rank { kill(getpid(), SIGKILL) }
    }
}
