// Where a training stage's events go: `metrics.jsonl` (cut back to the restored checkpoint when a run
// resumes) and TensorBoard event files in `tb/`. Every training driver (TrainingStageRun, PPO) logs
// through one of these.
import Foundation

public final class TrainingEventLog {
    let metrics: MetricsLog
    let board: TensorBoardLog?

    public init(stageDirectory: URL) throws {
        metrics = try MetricsLog(directory: stageDirectory)
        do { board = try TensorBoardLog(stageDirectory: stageDirectory) } catch {
            // Training goes on without TensorBoard events, with a notice.
            FileHandle.standardError.write(Data("plumb: no TensorBoard events in \(stageDirectory.path): \(error)\n".utf8))
            board = nil
        }
    }

    public func record(_ event: TrainingProgress) {
        if case .started(_, let resumedAt) = event {
            do { try metrics.cutBack(toStep: resumedAt) } catch {
                FileHandle.standardError.write(Data("plumb: cannot cut \(metrics.url.path) back to step \(resumedAt): \(error)\n".utf8))
            }
        }
        try? metrics.record(event)
        try? board?.record(event)
    }
}
