// Finds shard sets under a path: a shard file, a directory of shards, a stage directory (its manifest's
// outputs) or a run directory (every stage's outputs, stages in name order).
import Foundation

public struct LocatedShardSet {
    /// "<run>/<stage>" when the set belongs to a stage with a manifest.
    public var stage: String?
    public var directory: URL
    public var name: String
    public var files: [URL]
    /// The manifest's record of this set, when there is one.
    public var recorded: StageOutput?
}

public enum ShardLocator {
    public static func locate(_ path: URL) throws -> [LocatedShardSet] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw StoreError.notFound(path: path.path, reason: "no such file or directory")
        }
        if !isDirectory.boolValue {
            let name = ShardNaming.parse(path.lastPathComponent)?.name ?? path.lastPathComponent
            return [LocatedShardSet(stage: nil, directory: path.deletingLastPathComponent(), name: name, files: [path], recorded: nil)]
        }
        if FileManager.default.fileExists(atPath: path.appendingPathComponent(StageManifest.fileName).path) {
            return try stageSets(path)
        }
        let entries = try listing(path)
        let stages = entries.filter {
            FileManager.default.fileExists(atPath: path.appendingPathComponent($0).appendingPathComponent(StageManifest.fileName).path)
        }
        if !stages.isEmpty { return try stages.flatMap { try stageSets(path.appendingPathComponent($0)) } }
        let sets = looseSets(path, entries)
        if sets.isEmpty { throw StoreError.notFound(path: path.path, reason: "no shards, stage manifest or stages here") }
        return sets
    }

    /// The output sets a stage's manifest lists, in manifest order.
    static func stageSets(_ directory: URL) throws -> [LocatedShardSet] {
        let manifest = try StageManifest.read(from: directory)
        return manifest.outputs.map { output in
            LocatedShardSet(stage: "\(manifest.run)/\(manifest.stage)", directory: directory, name: output.name,
                            files: output.files.map { directory.appendingPathComponent($0.file) }, recorded: output)
        }
    }

    /// Finished shard files in a directory without a manifest, grouped by set name, by index.
    static func looseSets(_ directory: URL, _ entries: [String]) -> [LocatedShardSet] {
        var byName: [String: [(Int, String)]] = [:]
        for entry in entries {
            if let parsed = ShardNaming.parse(entry) { byName[parsed.name, default: []].append((parsed.index, entry)) }
        }
        return byName.keys.sorted().map { name in
            let files = byName[name]!.sorted { $0.0 < $1.0 }.map { directory.appendingPathComponent($0.1) }
            return LocatedShardSet(stage: nil, directory: directory, name: name, files: files, recorded: nil)
        }
    }

    static func listing(_ directory: URL) throws -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() } catch {
            throw StoreError.io(path: directory.path, operation: "list directory", errno: EIO)
        }
    }
}
