// Where a stage writes: `runsRoot/run/stage`. Paths a stage records (its inputs in the manifest) are
// made relative to `runsRoot` by the store, never by the process's working directory.
import Foundation

public struct StageLocation: Sendable, Equatable {
    public var runsRoot: URL
    public var run: String
    public var stage: String
    public init(runsRoot: URL, run: String, stage: String) {
        self.runsRoot = runsRoot
        self.run = run
        self.stage = stage
    }

    /// `RUNS/RUN/STAGE` as a directory path.
    public init(directory: URL) {
        let url = directory.standardizedFileURL
        let run = url.deletingLastPathComponent()
        self.init(runsRoot: run.deletingLastPathComponent(), run: run.lastPathComponent, stage: url.lastPathComponent)
    }

    public var directory: URL { runsRoot.appendingPathComponent(run).appendingPathComponent(stage) }
}
