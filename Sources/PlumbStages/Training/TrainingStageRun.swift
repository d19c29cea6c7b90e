// The part every training stage shares once its data and model are ready: log every event to
// `metrics.jsonl` (cut back to the restored checkpoint on resume) and to TensorBoard event files in
// `tb/`, run the loop with checkpoints in `checkpoints/`, then save the model into the stage.
import Foundation
import PlumbModel
import PlumbStore

public enum TrainingStageRun {
    public static func train(_ model: LlamaModel, plan: BatchPlan, objective: TrainingObjective, settings: LoopSettings,
                             stage: StageWriter, metadata: [String: String],
                             progress: @escaping ProgressHandler) throws -> TrainingSummary {
        let metrics = try MetricsLog(directory: stage.directory)
        let board = openTensorBoardLog(stage.directory)
        let loop = try TrainingLoop(model: model, plan: plan, settings: settings,
                                    checkpointRoot: stage.directory.appendingPathComponent("checkpoints"))
        let summary = try loop.run(objective) { event in
            if case .started(_, let resumedAt) = event {
                do { try metrics.cutBack(toStep: resumedAt) } catch {
                    FileHandle.standardError.write(Data("plumb: cannot cut \(metrics.url.path) back to step \(resumedAt): \(error)\n".utf8))
                }
            }
            try? metrics.record(event)
            try? board?.record(event)
            progress(event)
        }
        try StageModel.save(model, to: stage, metadata: metadata)
        stage.setMetric("non_finite_steps", Double(summary.nonFiniteSteps))
        return summary
    }

    /// The stage's TensorBoard log; training goes on without one (with a notice) if it cannot be made.
    private static func openTensorBoardLog(_ directory: URL) -> TensorBoardLog? {
        do { return try TensorBoardLog(stageDirectory: directory) } catch {
            FileHandle.standardError.write(Data("plumb: no TensorBoard events in \(directory.path): \(error)\n".utf8))
            return nil
        }
    }
}
