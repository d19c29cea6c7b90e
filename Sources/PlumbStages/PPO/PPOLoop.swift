// PPO's iterations over the Trainer: rollouts, `ppoEpochs` x `miniBatches` optimiser steps (the
// policy and the critic as two parameter groups), the KL controller, one metrics line per iteration
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
    var samplesDirectory: URL { stage.directory.appendingPathComponent("samples") }

    init(settings: PPOSettings, stage: StageWriter, rollouts: PPORollouts, update: PPOUpdate, judgeEvery: Int,
         judge: PPOStage.PolicyJudge?, log: @escaping (String) -> Void) {
        self.settings = settings; self.stage = stage; self.rollouts = rollouts; self.update = update
        self.judgeEvery = judgeEvery; self.judge = judge; self.log = log
    }

    func run(progress: ProgressHandler) throws -> PPOStage.Summary {
        let perIteration = settings.stepsPerIteration
        let checkpoints = stage.directory.appendingPathComponent("checkpoints")
        let trainer = try Trainer(groups: [Trainer.Group(name: "policy", model: update.policy.model, optimization: settings.policyOptimization),
                                           Trainer.Group(name: "value", model: update.critic.model, optimization: settings.valueOptimization)],
                                  totalSteps: settings.iterations * perIteration, checkpointRoot: checkpoints,
                                  keepCheckpoints: settings.keepCheckpoints)
        let events = try TrainingEventLog(stageDirectory: stage.directory)
        let resumed = try trainer.restore()
        var iteration = (resumed?.step ?? 0) / perIteration
        let driver = resumed?.driver ?? [:]
        var controller = KLController(beta: driver["beta"] ?? settings.beta, target: settings.klTarget, horizon: settings.klHorizon)
        var running = RunningWhitening(sum: driver["whitening_sum"] ?? 0, sumOfSquares: driver["whitening_sum_squares"] ?? 0,
                                       count: Int(driver["whitening_count"] ?? 0))
        var tokens = resumed?.tokens ?? 0
        var guardRail = NonFiniteGuard(limit: settings.maxConsecutiveNonFinite, total: resumed?.nonFiniteSteps ?? 0)
        let startIteration = iteration, startTokens = tokens
        var savedIteration = resumed == nil ? nil : iteration
        func emit(_ event: TrainingProgress) { events.record(event); progress(event) }
        emit(.started(totalSteps: settings.iterations, resumedAtStep: iteration))
        var judged: [Int: [String: Double]] = [:]
        var initialJudgement = resumed?.initialEvaluation ?? [:]
        if iteration == 0, let judge {
            initialJudgement = try judge(0, update.policy.model)
            emit(.evaluation(EvaluationReport(step: 0, metrics: initialJudgement)))
        }
        if !initialJudgement.isEmpty { judged[0] = initialJudgement }
        var last: [String: Double] = [:]
        let start = monotonicNow()
        while iteration < settings.iterations {
            let (batch, timing) = try rollouts.collect(iteration: iteration, beta: controller.beta, running: &running)
            var figures = Self.rolloutFigures(batch, beta: controller.beta)
            let meanKL = figures["objective/kl"] ?? .nan
            if !(meanKL <= settings.maxKL) {
                let saved = savedIteration.map { "the newest checkpoint in \(checkpoints.path) holds iteration \($0)" } ?? "no checkpoint was saved yet"
                throw StageError("ppo: stopped at iteration \(iteration + 1) of \(settings.iterations): the policy's KL to the reference is \(meanKL) nats per response, past the bound \(settings.maxKL) (--max-kl); \(saved). Raise beta or lower the learning rate.")
            }
            let clock = monotonicNow()
            var updateFigures = PPOUpdate.Figures()
            var rates: [Float] = [], norms: [[Float]] = [], lossSum = 0.0
            for epoch in 0..<settings.ppoEpochs {
                for indices in miniBatches(count: batch.count, iteration: iteration, epoch: epoch) {
                    let step = iteration * perIteration + norms.count
                    trainer.zeroGradients()
                    let f = try update.accumulate(batch, indices: indices)
                    let loss = Float(f.loss(valueCoefficient: settings.loss.valueCoefficient))
                    let u = try trainer.update(step: step, loss: loss)
                    try guardRail.record(skipped: u.skipped, where: "iteration \(iteration + 1), PPO epoch \(epoch + 1)",
                                         detail: "loss \(loss), gradient norms \(u.gradNorms)", checkpoints: checkpoints)
                    updateFigures.add(f)
                    lossSum += Double(loss)
                    rates = u.learningRates
                    norms.append(u.gradNorms)
                }
            }
            let updateSeconds = monotonicNow() - clock
            controller.update(kl: meanKL, responses: batch.count)
            iteration += 1
            tokens += batch.reduce(0) { $0 + $1.tokenCount }
            for (k, v) in updateFigures.metrics() { figures[k] = v }
            figures["lr"] = Double(rates.first ?? 0)
            figures["lr/value"] = Double(rates.last ?? 0)
            figures["grad_norm/value"] = norms.map { Double($0.last!) }.reduce(0, +) / Double(max(norms.count, 1))
            figures["time/rollout"] = timing.rollout
            figures["time/scoring"] = timing.scoring
            figures["time/update"] = updateSeconds
            figures["non_finite_steps"] = Double(guardRail.total)
            last = figures
            let elapsed = monotonicNow() - start
            emit(.step(StepReport(step: iteration, totalSteps: settings.iterations, loss: Float(lossSum / Double(max(norms.count, 1))),
                                  learningRate: rates.first ?? 0, gradNorm: norms.map { $0[0] }.reduce(0, +) / Float(max(norms.count, 1)),
                                  tokens: batch.reduce(0) { $0 + $1.tokenCount }, tokensPerSecond: Double(tokens - startTokens) / max(elapsed, 1e-9),
                                  elapsedSeconds: elapsed, extra: figures)))
            if settings.sampleEvery > 0 && (iteration % settings.sampleEvery == 0 || iteration == settings.iterations) {
                try writeSamples(batch, iteration: iteration)
            }
            if let judge, judgeEvery > 0, iteration % judgeEvery == 0 || iteration == settings.iterations {
                judged[iteration] = try judge(iteration, update.policy.model)
                emit(.evaluation(EvaluationReport(step: iteration, metrics: judged[iteration]!)))
            }
            FaultInjection.killIfRequested(afterStep: iteration)
            if iteration == settings.iterations || iteration % settings.checkpointEvery == 0 {
                let dir = try trainer.save(step: iteration * perIteration, tokens: tokens, initialEvaluation: initialJudgement, nonFiniteSteps: guardRail.total,
                                           driver: ["beta": controller.beta, "whitening_sum": running.sum,
                                                    "whitening_sum_squares": running.sumOfSquares, "whitening_count": Double(running.count)])
                emit(.checkpoint(step: iteration, path: dir.path))
                savedIteration = iteration
            }
        }
        emit(.finished(step: iteration))
        try publishSamples()
        return PPOStage.Summary(iterations: settings.iterations, resumedAtIteration: startIteration, nonFiniteSteps: guardRail.total,
                                last: last, judged: judged, gateThreshold: nil)
    }

    /// The mini-batches of an epoch: the rollouts cut into `miniBatches` parts, in rollout order in
    /// the first epoch (already a seeded shuffle of the prompts) and in a seeded shuffle after. The
    /// first mini-batch then packs its examples into the same rows as the rollout's forward pass did,
    /// so its log-probabilities are the rollout's bit for bit (ratio exactly 1) whatever the BLAS
    /// kernels' rounding by row position.
    func miniBatches(count: Int, iteration: Int, epoch: Int) -> [[Int]] {
        var order = Array(0..<count)
        var rng = SeededRNG(seed: settings.seed ^ (0x94D0_49BB_1331_11EB &* UInt64(iteration * settings.ppoEpochs + epoch + 1)))
        if epoch > 0 { order.shuffle(using: &rng) }
        let m = settings.miniBatches
        return (0..<m).map { j in Array(order[(j * count / m)..<((j + 1) * count / m)]) }
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
        return [
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
        for r in batch.prefix(settings.samplesKept) {
            try writer.append(RejectionSample(promptID: r.promptID, prompt: byID[r.promptID]!, sample: 0, text: r.text, tokens: r.tokenCount,
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
