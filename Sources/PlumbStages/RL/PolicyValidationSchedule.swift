// Early stopping on held-out validation for the RL loop (PPOLoop): every `every` iterations (and
// before the first and after the last) the environment's validator scores the live policy (on the
// built-in task: the simulated annotators' comparisons of its answers to held-out prompts with the
// reference's, PolicyValidation in PlumbEval; never the oracle's own scores). With `keepBest` the
// policy of the best figure so far is written to `best-policy/` and becomes the stage's policy at the
// end; the best iteration and figure travel in the checkpoints (PPOResumeState), so a resumed run
// keeps the same one. Ties keep the earlier iteration. A LoRA policy keeps its adapter only (PEFT's
// files, fp32, so restoring it is exact), never the base.
import Foundation
import PlumbModel

public struct PolicyValidationSchedule {
    /// The figure compared (higher is better).
    public static let figure = "validation/annotator_win_rate"

    public let judge: PPOStage.PolicyJudge
    public let every: Int
    public let keepBest: Bool

    public init(judge: @escaping PPOStage.PolicyJudge, every: Int, keepBest: Bool) {
        self.judge = judge; self.every = every; self.keepBest = keepBest
    }

    public struct Best: Codable, Equatable, Sendable {
        public var iteration: Int
        public var value: Double
    }

    func due(_ iteration: Int, of iterations: Int) -> Bool {
        iteration == 0 || iteration == iterations || (every > 0 && iteration % every == 0)
    }
}

extension PPOLoop {
    /// The judge's figures when `due`, and the validation's when it is due; a better validation
    /// figure becomes `state.best` (and, with keepBest, `best-policy/`).
    func judgeAndValidate(_ iteration: Int, due judgeDue: Bool, state: inout PPOResumeState) throws -> [String: Double] {
        let validating = validation?.due(iteration, of: settings.iterations) == true
        let policy = judgeDue || validating ? try update.policy.standaloneModel() : update.policy.model
        var figures = judgeDue ? try judge!(iteration, policy) : [:]
        guard let validation, validating else { return figures }
        let validated = try validation.judge(iteration, policy)
        for (k, v) in validated { figures[k] = v }
        guard let value = validated[PolicyValidationSchedule.figure], value.isFinite else {
            throw StageError("rl: the validator gave no finite \(PolicyValidationSchedule.figure) at iteration \(iteration)")
        }
        if state.best == nil || value > state.best!.value {
            state.best = PolicyValidationSchedule.Best(iteration: iteration, value: value)
            if validation.keepBest { try saveBest() }
        }
        return figures
    }

    /// Writes the live policy (a LoRA policy's adapter) to `best-policy/` through a temporary
    /// directory (a kill leaves the old one or the new one).
    func saveBest() throws {
        let fm = FileManager.default
        let temporary = stage.directory.appendingPathComponent(".best-policy-writing")
        try? fm.removeItem(at: temporary)
        if let adapter = update.policy.adapter {
            try PEFTAdapterFormat.save(adapter, base: update.policy.model, baseName: nil, to: temporary)
        } else {
            try update.policy.model.save(to: temporary)
        }
        try? fm.removeItem(at: bestDirectory)
        try fm.moveItem(at: temporary, to: bestDirectory)
    }

    /// With keepBest, loads `best-policy/` into the policy (the stage then saves it) and removes it.
    func restoreBest(_ state: PPOResumeState) throws {
        guard let validation, validation.keepBest, let best = state.best else { return }
        if best.iteration != settings.iterations {
            if let adapter = update.policy.adapter {
                let saved = try PEFTAdapterFormat.load(bestDirectory, base: update.policy.model, baseSource: "the policy's base")
                try adapter.parameters.copyValues(from: saved.parameters)
            } else {
                let saved = try LlamaModel.load(directory: bestDirectory)
                try update.policy.model.load(try saved.tensors(), source: bestDirectory.path)
            }
            log("rl: keeping the policy of iteration \(best.iteration) (\(PolicyValidationSchedule.figure) \(best.value)), not the last iteration's")
        }
        try? FileManager.default.removeItem(at: bestDirectory)
    }
}
