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

extension StageLocation {
    /// `runsRoot/run`.
    public var runDirectory: URL { runsRoot.appendingPathComponent(run) }

    /// How a stage names a file it reads in what it writes: relative to the run's directory
    /// (`task/sft.jsonl`, `../2026-11/select/...`) when the file is inside the runs root, so the
    /// names do not depend on where the runs root is; else the full path.
    public func recordedPath(_ url: URL) -> String {
        let root = runsRoot.standardizedFileURL.pathComponents, path = url.standardizedFileURL.pathComponents
        guard path.count > root.count, Array(path.prefix(root.count)) == root else { return url.standardizedFileURL.path }
        let from = runDirectory.standardizedFileURL.pathComponents
        var common = 0
        while common < min(from.count, path.count) && from[common] == path[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + path[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
