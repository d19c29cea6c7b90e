// What the runner knows of a stage: `STAGE/pipeline-stage.json`, written atomically once the stage's
// stage has finished, holds the stage's key (its manifest's cache key, `StageKey`: kind, resolved
// parameters, each input's content checksum, code version; no paths, so a run directory moved or
// copied elsewhere stays complete), the options as written and the checksum of what it wrote.
// `pipeline-stage.started.json` holds the key a stage was started with, so an interrupted stage is
// resumed only with the same key; once the stage's writer has begun (and replaced the directory's
// contents), its unfinished manifest's cache key says it.
import Foundation
import PlumbFiles
import PlumbStore

public struct PipelineInputRecord: Codable, Equatable {
    /// The reference as written (`sft`, `previous:ppo`, `tokenizer/spm.model`).
    public var ref: String
    /// The stage directory read, relative to this run's directory.
    public var stage: String
    /// The output checksum of that stage when this one ran.
    public var checksum: String
}

public struct PipelineStageRecord: Codable, Equatable {
    public var format = 1
    public var stage: String
    public var kind: String
    public var key: String
    public var options: [String: [String]]
    public var inputs: [String: [PipelineInputRecord]]
    public var code: String
    /// `StageContent.checksum` of the stage directory after the command finished.
    public var output: String
    public var seconds: Double
    public var completedAt: String

    public static let fileName = "pipeline-stage.json"
    static let startedFileName = "pipeline-stage.started.json"

    public static func read(_ stage: URL) throws -> PipelineStageRecord? {
        let file = stage.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do { return try JSONDecoder().decode(PipelineStageRecord.self, from: Data(contentsOf: file)) } catch {
            throw PipelineError("\(file.path): unreadable stage record: \(error)")
        }
    }

    func write(_ stage: URL) throws {
        try AtomicFile.write(try Self.encoder.encode(self), to: stage.appendingPathComponent(Self.fileName))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }()

    /// The key a stage started with, if it was started and has not finished.
    static func startedKey(_ stage: URL) -> String? {
        if let data = try? Data(contentsOf: stage.appendingPathComponent(startedFileName)),
           let key = (try? JSONDecoder().decode([String: String].self, from: data))?["key"] {
            return key
        }
        guard let manifest = try? StageManifest.read(from: stage), manifest.status != .complete else { return nil }
        return manifest.cacheKey
    }

    static func markStarted(_ stage: URL, key: String) throws {
        try AtomicFile.write(try encoder.encode(["key": key]), to: stage.appendingPathComponent(startedFileName))
    }
}

/// The code version a stage record holds.
enum PipelineCodeVersion {
    /// The code version as it enters keys.
    static var text: String {
        let version = CodeVersion.current()
        return version.content ?? "commit \(version.commit ?? "unknown") dirty \(version.dirty.map { String($0) } ?? "unknown")"
    }
}
