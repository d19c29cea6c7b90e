// Options shared by the training commands (rm train, dpo): where the stage goes, how the
// model starts, batch shape and optimisation. Defaults are Llama 2's published settings.
import ArgumentParser
import Foundation
import PlumbModel
import PlumbStages
import PlumbTensor

extension ScheduleKind: ExpressibleByArgument {}

/// A command-line path as a file URL.
func fileURL(_ path: String) -> URL { URL(fileURLWithPath: path).standardizedFileURL }

struct StageOutputOptions: ParsableArguments {
    @Option(help: "Stage directory to write: RUNS/RUN/STAGE (e.g. runs/2026-11/sft).")
    var out: String

    /// Where the stage goes: RUNS/RUN/STAGE, or on a rank other than 0 of a distributed job the same
    /// RUN/STAGE under that rank's scratch directory (rank 0 alone writes the stage).
    var location: StageLocation { DistributedRuntime.rankLocation(StageLocation(directory: fileURL(out))) }
}

struct OptimizationOptions: ParsableArguments {
    @Option(help: "Peak learning rate.") var lr: Float?
    @Option(help: "Learning-rate schedule.") var schedule: ScheduleKind = .cosine
    @Option(help: "Warm-up steps as a share of all steps.") var warmupRatio: Float = 0.03
    @Option(help: "Floor of the decaying schedule, as a share of the peak.") var minLrRatio: Float = 0.1
    @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float = 0.1
    @Option(help: "AdamW beta1.") var beta1: Float = 0.9
    @Option(help: "AdamW beta2.") var beta2: Float = 0.95
    @Option(help: "AdamW epsilon.") var eps: Float = 1e-5
    @Option(help: "Clip gradients to this global norm (0: off).") var maxGradNorm: Float = 1.0
    @Option(help: "Micro-batches per optimiser step.") var gradientAccumulation: Int = 1
    @Option(help: "Save a checkpoint every N steps (and at the end).") var checkpointEvery: Int = 200
    @Option(help: "Evaluate on the validation split every N steps (and at the end).") var evalEvery: Int = 100
    @Option(help: "Stop after this many steps in a row with a non-finite loss or gradient (each is skipped).")
    var maxNonFiniteSteps: Int = 5
    /// `--distributed mpi` (validated, and MPI started, when the options are parsed).
    @OptionGroup var parallel: DistributedOptions

    func loopSettings(defaultLearningRate: Float) -> LoopSettings {
        LoopSettings(
            optimization: OptimizationSettings(
                learningRate: lr ?? defaultLearningRate, schedule: schedule, warmupRatio: warmupRatio,
                minLearningRateRatio: minLrRatio,
                adam: AdamWConfig(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay),
                maxGradNorm: maxGradNorm, gradientAccumulation: gradientAccumulation),
            checkpointEvery: checkpointEvery, evaluateEvery: evalEvery, maxConsecutiveNonFinite: maxNonFiniteSteps)
    }
}
