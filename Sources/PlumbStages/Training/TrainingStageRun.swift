// The part every training stage shares once its data and model are ready: log every event to
// `metrics.jsonl` (cut back to the restored checkpoint on resume) and to TensorBoard event files in
// `tb/`, run the loop with checkpoints in `checkpoints/`, then save the model into the stage (rank 0
// of a distributed job; the other ranks' stage writers point at a scratch directory, and keep no model).
import Foundation
import PlumbModel
import PlumbStore
import PlumbTensor

public enum TrainingStageRun {
    /// `metadata` goes into the saved model's safetensors header, with the stage's name. With an
    /// `adapter`, the loop trains the adapter over the frozen `model` (loaded from `base`), and the
    /// stage keeps the adapter only, in PEFT's layout (`StageModel.saveAdapter`).
    public static func train(_ model: LlamaModel, adapter: LoRAAdapter? = nil, base: URL? = nil, plan: BatchPlan,
                             objective: TrainingObjective, settings: LoopSettings,
                             stage: StageContext, metadata: [String: String]) throws -> TrainingSummary {
        let events = try TrainingEventLog(stageDirectory: stage.directory)
        let loop = try TrainingLoop(model: model, adapter: adapter, plan: plan, settings: settings,
                                    checkpointRoot: stage.directory.appendingPathComponent("checkpoints"))
        let summary = try loop.run(objective) { event in
            events.record(event)
            stage.progress(event)
        }
        if Distributed.world.isRoot {
            if let adapter {
                guard let base else { throw StageError("\(stage.location.stage): a LoRA stage needs its base model's location") }
                try StageModel.saveAdapter(adapter, base: model, baseLocation: base, to: stage.writer)
            } else {
                try StageModel.save(model, to: stage.writer, metadata: metadata.merging(["stage": stage.location.stage]) { a, _ in a })
            }
        }
        return summary
    }
}

extension TrainingSummary: StageSummary {
    /// The figures every training stage records: steps, the last training loss, throughput, skipped
    /// steps, the final validation figures and the initial ones (`initial_` + name).
    public var metrics: [String: Double] {
        var out = finalEvaluation
        for (name, value) in initialEvaluation { out["initial_" + name] = value }
        out["steps"] = Double(steps)
        out["train_loss"] = Double(finalLoss)
        out["tokens_per_second"] = tokensPerSecond
        out["non_finite_steps"] = Double(nonFiniteSteps)
        return out
    }
}
