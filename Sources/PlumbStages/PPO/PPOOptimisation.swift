// PPO's phase 3, shared by the stage (PPOLoop) and `plumb bench ppo`: `ppoEpochs` passes over an
// iteration's rollouts, one optimiser step of the policy and the critic per mini-batch.
import Foundation
import PlumbTensor

public enum PPOOptimisation {
    /// What the passes did: the update's figures, each step's learning rates and gradient norms, the summed loss.
    public struct Steps {
        public var figures = PPOUpdate.Figures()
        public var rates: [Float] = []
        public var norms: [[Float]] = []
        public var lossSum = 0.0
    }

    /// Step s of iteration i is optimiser step i * stepsPerIteration + s; a step with a non-finite loss
    /// or norm takes no step and is counted by `guardRail` (which stops the stage after too many in a row).
    public static func optimise(_ batch: [Rollout], iteration: Int, settings: PPOSettings, update: PPOUpdate, trainer: Trainer,
                                guardRail: inout NonFiniteGuard, checkpoints: URL) throws -> Steps {
        var out = Steps()
        for epoch in 0..<settings.ppoEpochs {
            for indices in miniBatches(count: batch.count, iteration: iteration, epoch: epoch, settings: settings) {
                let step = iteration * settings.stepsPerIteration + out.norms.count
                trainer.zeroGradients()
                let f = try update.accumulate(batch, indices: indices)
                let loss = Float(f.loss(valueCoefficient: settings.loss.valueCoefficient))
                let u = try trainer.update(step: step, loss: loss)
                try guardRail.record(skipped: u.skipped, where: "iteration \(iteration + 1), PPO epoch \(epoch + 1)",
                                     detail: "loss \(loss), gradient norms \(u.gradNorms)", checkpoints: checkpoints)
                out.figures.add(f)
                out.lossSum += Double(loss)
                out.rates = u.learningRates
                out.norms.append(u.gradNorms)
            }
        }
        return out
    }

    /// The mini-batches of an epoch: the rollouts cut into `miniBatches` parts, in rollout order in
    /// the first epoch (already a seeded shuffle of the prompts) and in a seeded shuffle after. The
    /// first mini-batch then packs its examples into the same rows as the rollout's forward pass did,
    /// so its log-probabilities are the rollout's bit for bit (ratio exactly 1) whatever the BLAS
    /// kernels' rounding by row position.
    public static func miniBatches(count: Int, iteration: Int, epoch: Int, settings: PPOSettings) -> [[Int]] {
        var order = Array(0..<count)
        var rng = SeededRNG(seed: settings.seed ^ (0x94D0_49BB_1331_11EB &* UInt64(iteration * settings.ppoEpochs + epoch + 1)))
        if epoch > 0 { order.shuffle(using: &rng) }
        let m = settings.miniBatches
        return (0..<m).map { j in Array(order[(j * count / m)..<((j + 1) * count / m)]) }
    }
}
