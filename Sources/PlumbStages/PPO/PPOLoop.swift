// PPO's iterations over the Trainer, shared by `ppo` and the `rl` stage's estimators: rollouts,
// `ppoEpochs` x `miniBatches` optimiser steps (the policy and, for PPO, the critic as two parameter groups), the KL controller, one metrics line per iteration
// with TRL's names (metrics.jsonl and TensorBoard), sample completions every `sampleEvery` iterations, the judge every `judgeEvery`,
// checkpoints at iteration boundaries. Optimiser step s of iteration i is i * stepsPerIteration + s,
// so the schedules and the checkpoints count optimiser steps while the metrics count iterations.
import Foundation
import PlumbFiles
import PlumbModel
import PlumbStore
import PlumbTensor

final class PPOLoop {
    let settings: PPOSettings
    let stage: StageWriter
    let rollouts: PPORollouts
    let update: PPOUpdate
    let judgeEvery: Int
    let judge: PPOStage.PolicyJudge?
    let log: (String) -> Void
    let validation: PolicyValidationSchedule?
    var samplesDirectory: URL { stage.directory.appendingPathComponent("samples") }
    var bestDirectory: URL { stage.directory.appendingPathComponent("best-policy") }

    init(settings: PPOSettings, stage: StageWriter, rollouts: PPORollouts, update: PPOUpdate, judgeEvery: Int,
         judge: PPOStage.PolicyJudge?, validation: PolicyValidationSchedule? = nil, log: @escaping (String) -> Void) {
        self.settings = settings; self.stage = stage; self.rollouts = rollouts; self.update = update
        self.judgeEvery = judgeEvery; self.judge = judge; self.validation = validation; self.log = log
    }

    /// One PPO stage, phase by phase (TRL's order):
    ///   0. restore the newest checkpoint (policy, critic, both optimisers, the typed resume state);
    ///      judge the starting policy
    ///   per iteration:
    ///   1. rollouts: responses of the current policy, both reward models, the reference's and the
    ///      critic's passes, GAE (PPORollouts)
    ///   2. the KL bound: stop when the mean KL per response passes `maxKL`
    ///   3. optimise: `ppoEpochs` passes of `miniBatches` steps, policy and critic together
    ///   4. the KL controller's step
    ///   5. the iteration's figures (metrics.jsonl, TensorBoard, progress)
    ///   6. sample completions and the judge, every `sampleEvery` / `judgeEvery` iterations
    ///   7. a checkpoint every `checkpointEvery` iterations and at the end
    func run(progress: ProgressHandler) throws -> PPOStage.Summary {
        // 0. Restore.
        let perIteration = settings.stepsPerIteration
        let checkpoints = stage.directory.appendingPathComponent("checkpoints")
        let trainer = try Self.trainer(update, settings: settings, totalSteps: settings.iterations * perIteration, checkpoints: checkpoints)
        let events = try TrainingEventLog(stageDirectory: stage.directory)
        let resumed = try trainer.restore()
        var iteration = (resumed?.step ?? 0) / perIteration
        var state = PPOResumeState(driver: resumed?.driver, beta: settings.beta)
        var controller = KLController(beta: state.beta, target: settings.klTarget, horizon: settings.klHorizon)
        var tokens = resumed?.tokens ?? 0
        var guardRail = NonFiniteGuard(limit: settings.maxConsecutiveNonFinite, total: resumed?.nonFiniteSteps ?? 0)
        let startIteration = iteration, startTokens = tokens
        var savedIteration = resumed == nil ? nil : iteration
        func emit(_ event: TrainingProgress) { events.record(event); progress(event) }
        emit(.started(totalSteps: settings.iterations, resumedAtStep: iteration))
        var judged: [Int: [String: Double]] = [:]
        var initialJudgement = resumed?.initialEvaluation ?? [:]
        if iteration == 0 {
            initialJudgement = try judgeAndValidate(0, due: judge != nil, state: &state)
            if !initialJudgement.isEmpty { emit(.evaluation(EvaluationReport(step: 0, metrics: initialJudgement))) }
        }
        if !initialJudgement.isEmpty { judged[0] = initialJudgement }
        var last: [String: Double] = [:]
        let start = monotonicNow()
        while iteration < settings.iterations {
            // 1. Rollouts.
            let (batch, timing) = try rollouts.collect(iteration: iteration, beta: controller.beta, running: &state.whitening)
            var figures = Self.rolloutFigures(batch, beta: controller.beta)
            // 2. The KL bound.
            let meanKL = figures["objective/kl"] ?? .nan
            if !(meanKL <= settings.maxKL) {
                let saved = savedIteration.map { "the newest checkpoint in \(checkpoints.path) holds iteration \($0)" } ?? "no checkpoint was saved yet"
                throw StageError("ppo: stopped at iteration \(iteration + 1) of \(settings.iterations): the policy's KL to the reference is \(meanKL) nats per response, past the bound \(settings.maxKL) (--max-kl); \(saved). Raise beta or lower the learning rate.")
            }
            // 3. Optimise (a KL term of the loss takes the controller's beta).
            if let kl = update.lossKL { update.lossKL = LossKL(estimator: kl.estimator, beta: controller.beta) }
            let clock = monotonicNow()
            let steps = try PPOOptimisation.optimise(batch, iteration: iteration, settings: settings, update: update, trainer: trainer,
                                                     guardRail: &guardRail, checkpoints: checkpoints)
            let updateSeconds = monotonicNow() - clock
            // 4. The KL controller.
            controller.update(kl: meanKL, responses: batch.count)
            state.beta = controller.beta
            iteration += 1
            tokens += batch.reduce(0) { $0 + $1.tokenCount }
            // 5. The iteration's figures.
            // The policy's learning rate and gradient norm are the step's own `lr` and `grad_norm`
            // (train/lr, train/grad_norm); the critic's have tags of their own.
            for (k, v) in steps.figures.metrics(critic: update.critic != nil) { figures[k] = v }
            if update.critic != nil {
                figures["lr/value"] = Double(steps.rates.last ?? 0)
                figures["grad_norm/value"] = steps.norms.map { Double($0.last!) }.reduce(0, +) / Double(max(steps.norms.count, 1))
            }
            figures["time/rollout"] = timing.rollout
            figures["time/scoring"] = timing.scoring
            figures["time/update"] = updateSeconds
            figures["non_finite_steps"] = Double(guardRail.total)
            last = figures
            let elapsed = monotonicNow() - start
            emit(.step(StepReport(step: iteration, totalSteps: settings.iterations, loss: Float(steps.lossSum / Double(max(steps.norms.count, 1))),
                                  learningRate: steps.rates.first ?? 0, gradNorm: steps.norms.map { $0[0] }.reduce(0, +) / Float(max(steps.norms.count, 1)),
                                  tokens: batch.reduce(0) { $0 + $1.tokenCount }, tokensPerSecond: Double(tokens - startTokens) / max(elapsed, 1e-9),
                                  elapsedSeconds: elapsed, extra: figures)))
            // 6. Samples and the judge.
            if settings.sampleEvery > 0 && (iteration % settings.sampleEvery == 0 || iteration == settings.iterations) {
                try writeSamples(batch, iteration: iteration)
            }
            let judgeDue = judge != nil && judgeEvery > 0 && (iteration % judgeEvery == 0 || iteration == settings.iterations)
            let evaluation = try judgeAndValidate(iteration, due: judgeDue, state: &state)
            if !evaluation.isEmpty {
                judged[iteration] = evaluation
                emit(.evaluation(EvaluationReport(step: iteration, metrics: evaluation)))
            }
            FaultInjection.killIfRequested(afterStep: iteration)
            // 7. A checkpoint.
            if iteration == settings.iterations || iteration % settings.checkpointEvery == 0 {
                let dir = try trainer.save(step: iteration * perIteration, tokens: tokens, initialEvaluation: initialJudgement, nonFiniteSteps: guardRail.total,
                                           driver: state.driver)
                emit(.checkpoint(step: iteration, path: dir.path))
                savedIteration = iteration
            }
        }
        emit(.finished(step: iteration))
        try publishSamples()
        try restoreBest(state)
        return PPOStage.Summary(iterations: settings.iterations, resumedAtIteration: startIteration, nonFiniteSteps: guardRail.total,
                                last: last, judged: judged, gateThreshold: nil, best: state.best)
    }

    /// The Trainer of an RL stage: the policy's group and, with a critic, the value group, each with
    /// its optimisation settings. With LoRA each group trains its adapter over the shared frozen base
    /// (checkpoints hold the adapters only).
    static func trainer(_ update: PPOUpdate, settings: PPOSettings, totalSteps: Int, checkpoints: URL) throws -> Trainer {
        var groups = [Trainer.Group(name: "policy", model: update.policy.model, adapter: update.policy.adapter, optimization: settings.policyOptimization)]
        if let critic = update.critic {
            groups.append(Trainer.Group(name: "value", model: critic.model, adapter: critic.adapter, optimization: settings.valueOptimization))
        }
        return try Trainer(groups: groups, totalSteps: totalSteps, checkpointRoot: checkpoints, keepCheckpoints: settings.keepCheckpoints)
    }

    /// The rollout-side figures of an iteration, with TRL's names: means over responses of summed
    /// per-token quantities (objective/kl, objective/entropy), of scores, and explained variance
    /// over response tokens.
    static func rolloutFigures(_ batch: [Rollout], beta: Double) -> [String: Double] {
        let n = Double(max(batch.count, 1))
        let kl = batch.map { $0.kl.reduce(0, +) }.reduce(0, +) / n
        let scores = batch.map(\.score).reduce(0, +) / n
        var returns: [Double] = [], residuals: [Double] = []
        for r in batch {
            for (ret, v) in zip(r.returns, r.values) { returns.append(ret); residuals.append(ret - Double(v)) }
        }
        func variance(_ x: [Double]) -> Double {
            guard x.count > 1 else { return 0 }
            let m = x.reduce(0, +) / Double(x.count)
            return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)
        }
        let varReturns = variance(returns)
        var figures = [
            "objective/kl": kl, "objective/entropy": batch.map(\.entropy).reduce(0, +) / n,
            "objective/non_score_reward": -beta * kl, "objective/rlhf_reward": scores - beta * kl, "objective/scores": scores,
            "objective/beta": beta,
            "val/explained_variance": varReturns > 0 ? 1 - variance(residuals) / varReturns : 0,
            "val/mean": batch.flatMap(\.values).map(Double.init).reduce(0, +) / Double(max(returns.count, 1)),
            "response_length": batch.map { Double($0.tokenCount) }.reduce(0, +) / n,
            "eos_fraction": batch.map { $0.finished ? 1.0 : 0 }.reduce(0, +) / n,
            "gate/fired": batch.map { $0.combined?.gateFired == true ? 1.0 : 0 }.reduce(0, +) / n,
            "gate/safety_chosen": batch.map { $0.combined?.safetyChosen == true ? 1.0 : 0 }.reduce(0, +) / n,
            "scores/helpfulness": batch.map { Double($0.helpfulness) }.reduce(0, +) / n,
            "scores/safety": batch.map { Double($0.safety) }.reduce(0, +) / n,
            "scores/combined_logit": batch.map { Double($0.combined?.logit ?? 0) }.reduce(0, +) / n,
        ]
        if returns.isEmpty {  // no critic: no value figures
            figures["val/explained_variance"] = nil; figures["val/mean"] = nil
        }
        return figures
    }

    /// Writes the first `samplesKept` responses of the iteration as `samples-iteration-N` shards
    /// (rs-sample records, `round` = the iteration) with their file list in `samples/`; a rerun of
    /// the iteration writes the same bytes.
    func writeSamples(_ batch: [Rollout], iteration: Int) throws {
        let name = String(format: "samples-iteration-%06d", iteration)
        try FileManager.default.createDirectory(at: samplesDirectory, withIntermediateDirectories: true)
        for file in (try? FileManager.default.contentsOfDirectory(atPath: stage.directory.path)) ?? [] where file.hasPrefix(name) {
            try FileManager.default.removeItem(at: stage.directory.appendingPathComponent(file))
        }
        let writer = try ShardWriter(directory: stage.directory, name: name)
        let byID = Dictionary(rollouts.prompts.map { ($0.prompt.id, $0.prompt) }, uniquingKeysWith: { a, _ in a })
        for (index, r) in batch.prefix(settings.samplesKept).enumerated() {
            // Each prompt's group of responses is adjacent: `sample` is the response's place in it.
            try writer.append(RejectionSample(promptID: r.promptID, prompt: byID[r.promptID]!, sample: index % rollouts.estimation.groupSize,
                                              text: r.text, tokens: r.tokenCount,
                                              stop: r.finished ? "eos" : "max-new-tokens", helpfulness: r.helpfulness, safety: r.safety,
                                              safetyPrompt: r.safetyPrompt, gateFired: r.combined?.gateFired ?? false,
                                              combined: r.combined?.logit ?? 0, round: iteration))
        }
        let infos = try writer.finish()
        try AtomicFile.write(try JSONEncoder().encode(infos), to: samplesDirectory.appendingPathComponent(name + ".json"))
    }

    /// Records every `samples-iteration-N` shard set written so far as an output.
    func publishSamples() throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: samplesDirectory.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for file in names {
            let name = String(file.dropLast(".json".count))
            let infos = try JSONDecoder().decode([ShardFileInfo].self, from: Data(contentsOf: samplesDirectory.appendingPathComponent(file)))
            try stage.addOutput(name: name, files: infos)
        }
    }
}

/// What a PPO checkpoint carries beyond the Trainer's own state: the KL coefficient, the running
/// whitening sums and the best validation so far. Stored in trainer.json's `driver` under the names
/// below (the format resumed runs read).
struct PPOResumeState: Equatable {
    var beta: Double
    var whitening: RunningWhitening
    var best: PolicyValidationSchedule.Best?

    /// The state a checkpoint's `driver` holds, or the start (`beta`, no whitening) without one.
    init(driver: [String: Double]?, beta: Double) {
        let d = driver ?? [:]
        self.beta = d["beta"] ?? beta
        whitening = RunningWhitening(sum: d["whitening_sum"] ?? 0, sumOfSquares: d["whitening_sum_squares"] ?? 0,
                                     count: Int(d["whitening_count"] ?? 0))
        if let value = d["best_validation"], let iteration = d["best_iteration"] {
            best = PolicyValidationSchedule.Best(iteration: Int(iteration), value: value)
        }
    }

    var driver: [String: Double] {
        var d = ["beta": beta, "whitening_sum": whitening.sum, "whitening_sum_squares": whitening.sumOfSquares,
                 "whitening_count": Double(whitening.count)]
        if let best { d["best_validation"] = best.value; d["best_iteration"] = Double(best.iteration) }
        return d
    }
}
