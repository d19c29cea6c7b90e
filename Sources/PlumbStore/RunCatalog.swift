// Reading runs for people: the runs under a root, each run's stages with their status (a `running`
// stage whose run lock is no longer held is reported `interrupted`), outputs and lineage.
import Foundation

public enum StageState: String, Sendable {
    case running, interrupted, complete, failed, unreadable
}

public struct CatalogedStage {
    public var name: String
    public var directory: URL
    public var manifest: StageManifest?
    public var state: StageState
    /// Why the manifest could not be read, for `unreadable`.
    public var problem: String?
    /// "<run>/<stage>" of each stage whose outputs this stage read, in input order, without repeats.
    public var upstream: [String] {
        var seen: [String] = []
        for producer in manifest?.inputs.compactMap(\.producedBy) ?? [] where !seen.contains(producer) { seen.append(producer) }
        return seen
    }
}

public struct RunSummary {
    public var name: String
    public var directory: URL
    public var stages: [CatalogedStage]
    public var lock: RunLock.Probe
}

public enum RunCatalog {
    /// Every run directory under `root` (a directory holding at least one stage directory), by name.
    public static func runs(root: URL) throws -> [RunSummary] {
        try ShardLocator.listing(root).compactMap { entry in
            let directory = root.appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            guard !entry.hasPrefix("."), FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
                  isDirectory.boolValue else { return nil }
            let summary = try run(directory)
            return summary.stages.isEmpty ? nil : summary
        }
    }

    /// One run: its stages (subdirectories with a manifest.json), in order of start time, then name.
    public static func run(_ directory: URL) throws -> RunSummary {
        let lock = RunLock.probe(runDirectory: directory)
        var isHeld = false
        if case .held = lock { isHeld = true }
        var stages: [CatalogedStage] = []
        for entry in try ShardLocator.listing(directory) where !entry.hasPrefix(".") {
            let stageDirectory = directory.appendingPathComponent(entry)
            guard FileManager.default.fileExists(atPath: stageDirectory.appendingPathComponent(StageManifest.fileName).path) else { continue }
            do {
                let manifest = try StageManifest.read(from: stageDirectory)
                var state = StageState(rawValue: manifest.status.rawValue) ?? .unreadable
                if state == .running && !isHeld { state = .interrupted }
                stages.append(CatalogedStage(name: entry, directory: stageDirectory, manifest: manifest, state: state, problem: nil))
            } catch {
                stages.append(CatalogedStage(name: entry, directory: stageDirectory, manifest: nil, state: .unreadable, problem: "\(error)"))
            }
        }
        stages.sort { ($0.manifest?.startedAt ?? "", $0.name) < ($1.manifest?.startedAt ?? "", $1.name) }
        return RunSummary(name: directory.lastPathComponent, directory: directory, stages: stages, lock: lock)
    }
}
