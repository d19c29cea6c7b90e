// The optimiser side of training, shared by every driver: one or more parameter groups (a model with
// its own AdamW, learning-rate schedule and gradient clipping: PPO's policy and critic each have
// theirs), the optimiser step with the non-finite guard, and checkpoints of every group with the
// driver's own state. `TrainingLoop` drives it from a precomputed batch plan (pretrain, SFT, reward
// models, DPO); PPO drives it from batches it builds as it goes.
//
// One step: the driver zeroes the gradients, adds its micro-batches' gradients, then calls
// `update(step:loss:)`, which measures each group's global gradient norm, takes no step at all when
// the loss or any norm is not finite, and otherwise clips each group to its own maximum norm and
// takes each group's AdamW step at its scheduled learning rate for `step` (0-based).
//
// Data parallel (`Distributed.world` of N > 1 processes): each rank adds the gradients of its share
// of the step's micro-batches, already weighted by the step's global loss units, so `update` first
// sums each group's gradient arena over the ranks (one allreduce per group) and then every rank
// clips and steps the same bits; whether to skip is agreed by every rank. Rank 0 alone restores a
// checkpoint and broadcasts the weights, AdamW's moments and the state, and rank 0 alone saves
// one, after checking every rank holds the same weights.
import Foundation
import PlumbModel
import PlumbTensor

public final class Trainer {
    /// A model trained by this trainer with its own optimisation settings; with an `adapter`, the
    /// group trains that LoRA adapter's parameters over the frozen `model` (optimiser state and
    /// checkpoints hold the adapter only).
    public struct Group {
        public var name: String
        public var model: LlamaModel
        public var adapter: LoRAAdapter?
        public var optimization: OptimizationSettings
        public init(name: String, model: LlamaModel, adapter: LoRAAdapter? = nil, optimization: OptimizationSettings) {
            self.name = name; self.model = model; self.adapter = adapter; self.optimization = optimization
        }
        /// What this group trains: the adapter's parameters, or the model's.
        public var parameters: ParameterSet { adapter?.parameters ?? model.parameters }
    }

    /// The figures of one optimiser step, per group in order.
    public struct Update: Sendable {
        public var learningRates: [Float]
        public var gradNorms: [Float]
        /// The loss or a gradient norm was not finite: no weight and no moment changed.
        public var skipped: Bool
    }

    public let totalSteps: Int
    public let checkpointRoot: URL
    let keepCheckpoints: Int
    let groups: [Group]
    let optimizers: [AdamW]
    let schedules: [LearningRateSchedule]
    let world: any Communicator

    public init(groups: [Group], totalSteps: Int, checkpointRoot: URL, keepCheckpoints: Int,
                world: any Communicator = Distributed.world) throws {
        guard !groups.isEmpty else { throw StageError("trainer: no parameter group to train") }
        guard Set(groups.map(\.name)).count == groups.count else { throw StageError("trainer: group names must differ: \(groups.map(\.name))") }
        for g in groups { try g.optimization.validate() }
        self.groups = groups
        self.totalSteps = totalSteps
        self.checkpointRoot = checkpointRoot
        self.keepCheckpoints = keepCheckpoints
        self.world = world
        optimizers = groups.map { AdamW(parameters: $0.parameters, config: $0.optimization.adam) }
        schedules = try groups.map { try $0.optimization.learningRateSchedule(totalSteps: totalSteps) }
    }

    var checkpointGroups: [CheckpointGroup] {
        zip(groups, optimizers).map { CheckpointGroup(name: $0.name, model: $0.model, adapter: $0.adapter, optimizer: $1) }
    }

    /// Restores every group from the newest readable checkpoint; nil when there is none. With several
    /// ranks, rank 0 reads it and every rank starts from rank 0's weights, moments and state (a fresh
    /// start too), so the ranks begin identical.
    public func restore() throws -> TrainerState? {
        var state = world.isRoot ? try TrainingCheckpoint.restoreLatest(root: checkpointRoot, groups: checkpointGroups, totalSteps: totalSteps) : nil
        guard world.size > 1 else { return state }
        state = try world.broadcast(state, root: 0)
        for (g, optimizer) in zip(groups, optimizers) {
            try world.broadcast(g.parameters.values, root: 0)
            try world.broadcast(optimizer, root: 0)
        }
        return state
    }

    public func zeroGradients() {
        for g in groups { g.parameters.zeroGrad() }
    }

    /// Clips and steps every group for optimiser step `step` (0-based), unless the loss or a
    /// gradient norm is not finite.
    /// With several ranks, each group's gradients are first summed over the ranks; `loss` must be the
    /// step's global loss, and a step is skipped on every rank when any rank finds a non-finite figure.
    public func update(step: Int, loss: Float) throws -> Update {
        let rates = schedules.map { $0.learningRate(at: step) }
        for g in groups { try world.allreduceSum(g.parameters.gradients) }
        let norms = groups.map { GradientClipping.globalNorm($0.parameters) }
        var finite = loss.isFinite && norms.allSatisfy(\.isFinite)
        if world.size > 1 { finite = try world.allreduceSum([finite ? 0 : 1])[0] == 0 }
        guard finite else { return Update(learningRates: rates, gradNorms: norms, skipped: true) }
        for (i, g) in groups.enumerated() {
            let maxNorm = g.optimization.maxGradNorm
            let clip = maxNorm > 0 ? GradientClipping.factor(norm: norms[i], maxNorm: maxNorm) : 1
            try optimizers[i].update(g.parameters, learningRate: rates[i], gradientScale: clip)
        }
        return Update(learningRates: rates, gradNorms: norms, skipped: false)
    }

    /// Saves every group and the state of step `step`; keeps the newest checkpoints only. With
    /// several ranks, rank 0 saves once every rank's weights are known to equal its own, and the
    /// others wait until it has.
    @discardableResult
    public func save(step: Int, tokens: Int, initialEvaluation: [String: Double], nonFiniteSteps: Int,
                     driver: [String: Double]? = nil) throws -> URL {
        if world.size > 1 { try checkRanksAgree(step: step) }
        var directory = checkpointRoot
        if world.isRoot {
            var state = TrainerState(step: step, totalSteps: totalSteps,
                                     optimizer: try optimizers[0].saveState(parameters: groups[0].parameters, rng: nil).header,
                                     tokens: tokens, initialEvaluation: initialEvaluation, nonFiniteSteps: nonFiniteSteps, driver: driver)
            state.ranks = world.size > 1 ? world.size : nil
            directory = try TrainingCheckpoint.save(groups: checkpointGroups, state: state, root: checkpointRoot, keep: keepCheckpoints)
        }
        try world.barrier()
        return directory
    }

    /// Every rank holds rank 0's weights bit for bit (they take identical steps from identical
    /// sums); a rank that does not stops the job before a checkpoint is written.
    func checkRanksAgree(step: Int) throws {
        let mine = groups.map { ArenaFingerprint.of($0.parameters.values) }
        let root = try world.broadcast(mine, root: 0)
        let agree = try world.allreduceSum([mine == root ? 0 : 1])[0]
        guard agree == 0 else {
            throw StageError("step \(step): the weights of \(Int(agree)) rank(s) differ from rank 0's\(mine == root ? "" : " (this is rank \(world.rank))"); the ranks' sums disagree, so the job stops before saving")
        }
    }
}

/// Counts steps skipped for a non-finite loss or gradient and stops the stage after `limit` in a row.
public struct NonFiniteGuard: Sendable {
    public let limit: Int
    /// Skipped steps so far (kept across resume by the checkpoint).
    public private(set) var total: Int
    public private(set) var inARow = 0

    public init(limit: Int, total: Int = 0) {
        self.limit = limit; self.total = total
    }

    /// Records one step; throws when `limit` steps in a row were skipped. `where_` names the place
    /// (step, iteration) and `detail` the figures, for the message.
    public mutating func record(skipped: Bool, where place: String, detail: String, checkpoints: URL) throws {
        guard skipped else { inARow = 0; return }
        total += 1
        inARow += 1
        if inARow >= limit {
            throw StageError("training stopped at \(place): \(inARow) steps in a row had a non-finite loss or gradient (last: \(detail)); no weight was updated from them, and the newest checkpoint in \(checkpoints.path) holds finite weights. Lower the learning rate or check the data of these steps.")
        }
    }
}

/// A 64-bit fingerprint of an arena's bits (FNV-1a over its 32-bit words), to compare ranks' weights.
enum ArenaFingerprint {
    static func of(_ storage: TensorStorage) -> UInt64 {
        storage.base.withMemoryRebound(to: UInt32.self, capacity: storage.count) { words in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for i in 0..<storage.count { hash = (hash ^ UInt64(words[i])) &* 0x0000_0100_0000_01B3 }
            return hash
        }
    }
}
