// The part every training stage shares once its data and model are ready: log every event to
// `metrics.jsonl` (cut back to the restored checkpoint on resume) and to TensorBoard event files in
// `tb/`, run the loop with checkpoints in `checkpoints/`, then save the model into the stage (rank 0
// of a distributed job; the other ranks' stage writers point at a scratch directory, and keep no model).
import Foundation
import PlumbModel
import PlumbStore
import PlumbTensor

public enum TrainingStageRun {
    public static func train(_ model: LlamaModel, plan: BatchPlan, objective: TrainingObjective, settings: LoopSettings,
                             stage: StageWriter, metadata: [String: String],
                             progress: @escaping ProgressHandler) throws -> TrainingSummary {
        let events = try TrainingEventLog(stageDirectory: stage.directory)
        let loop = try TrainingLoop(model: model, plan: plan, settings: settings,
                                    checkpointRoot: stage.directory.appendingPathComponent("checkpoints"))
        let summary = try loop.run(objective) { event in
            events.record(event)
            progress(event)
        }
        if Distributed.world.isRoot { try StageModel.save(model, to: stage, metadata: metadata) }
        stage.setMetric("non_finite_steps", Double(summary.nonFiniteSteps))
        return summary
    }
}
