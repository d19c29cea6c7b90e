// `manifest.json` of a stage directory `runs/<run>/<stage>/`: what the stage is, what it read, what it
// wrote (with checksums), how it went. Format version 1; fields are described in docs/store.md.
import Foundation

public enum StageStatus: String, Codable, Sendable {
    case running, complete, failed
}

/// One input file of a stage, and which stage produced it (lineage), when it came from a run.
public struct StageInput: Codable, Equatable, Sendable {
    /// The path as given (absolute, or relative to the working directory).
    public var path: String
    public var sha256: String
    public var bytes: Int
    /// "<run>/<stage>" whose manifest lists this file among its outputs, if any.
    public var producedBy: String?
}

/// A named set of shards a stage wrote (e.g. "comparisons", "quarantine").
public struct StageOutput: Codable, Equatable, Sendable {
    public var name: String
    public var files: [ShardFileInfo]
    public var records: Int { files.reduce(0) { $0 + $1.records } }
    public var rawBytes: Int { files.reduce(0) { $0 + $1.rawBytes } }
    public var compressedBytes: Int { files.reduce(0) { $0 + $1.compressedBytes } }
    /// Schemas over all files, with record counts.
    public var schemas: [String: Int] { files.reduce(into: [:]) { acc, f in f.schemas.forEach { acc[$0.key, default: 0] += $0.value } } }
}

/// A file stored zstd-compressed in a stage (e.g. a safetensors checkpoint).
public struct StoredArtifact: Codable, Equatable, Sendable {
    public var name: String
    /// The compressed file, relative to the stage directory (`<name>.zst`).
    public var file: String
    public var sha256: String
    public var compressedBytes: Int
    /// SHA-256 and size of the original, uncompressed bytes.
    public var rawSHA256: String
    public var rawBytes: Int
}

/// One input of a stage's slot as it entered the cache key.
public struct SlotInput: Codable, Equatable, Sendable {
    /// Relative to the runs root when inside it (`RUN/STAGE/FILE`), else as given.
    public var path: String
    /// `StageContent.checksum` of a stage directory, else the SHA-256 of the file.
    public var checksum: String
    /// "<run>/<stage>" of the stage directory the input is or lies in, if any.
    public var producedBy: String?
    public init(path: String, checksum: String, producedBy: String?) {
        self.path = path; self.checksum = checksum; self.producedBy = producedBy
    }
}

/// A plain file a stage wrote in its directory.
public struct StageFile: Codable, Equatable, Sendable {
    public var name: String
    public var sha256: String
    public var bytes: Int
}

public struct CodeVersion: Codable, Equatable, Sendable {
    /// The git commit and dirty flag of the package (informational; nil outside a git checkout).
    public var commit: String?
    public var dirty: Bool?
    /// What the cache key uses when present: `sources:<SHA-256>` of the source tree the binary was
    /// built from (`Sources/` and `Package.swift`), or `executable:<SHA-256>` of the running binary
    /// when that tree is not on disk; then ` debug` or ` release`, the build configuration.
    public var content: String?
    public init(commit: String?, dirty: Bool?, content: String? = nil) {
        self.commit = commit; self.dirty = dirty; self.content = content
    }
}

public struct StageManifest: Codable, Equatable, Sendable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var run: String
    public var stage: String
    public var kind: String
    public var config: JSONValue
    public var inputs: [StageInput]
    public var outputs: [StageOutput]
    public var artifacts: [StoredArtifact]
    public var metrics: [String: Double]
    public var codeVersion: CodeVersion
    public var seed: UInt64?
    public var startedAt: String
    public var endedAt: String?
    public var host: String
    public var pid: Int32
    public var status: StageStatus
    public var error: String?
    /// SHA-256 of stage kind, canonical config JSON, input checksums and code version (`CacheKey`).
    public var cacheKey: String
    /// The inputs by slot as they entered the cache key: path, content checksum, producing stage.
    public var slots: [String: [SlotInput]]?
    /// Plain files the stage wrote (not shards, not artifacts), with their checksums.
    public var files: [StageFile]?
    /// The stage's typed summary, as JSON.
    public var summary: JSONValue?

    public static let fileName = "manifest.json"

    /// Reads and checks `manifest.json` in `stageDirectory`.
    public static func read(from stageDirectory: URL) throws -> StageManifest {
        let url = stageDirectory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw StoreError.manifest(path: url.path, reason: "missing or unreadable")
        }
        let manifest: StageManifest
        do { manifest = try JSONDecoder().decode(StageManifest.self, from: data) } catch {
            throw StoreError.manifest(path: url.path, reason: "not a valid manifest: \(error)")
        }
        guard manifest.formatVersion == currentFormatVersion else {
            throw StoreError.manifest(path: url.path, reason: "format version \(manifest.formatVersion), this build reads \(currentFormatVersion)")
        }
        try manifest.checkFileNames(url.path)
        return manifest
    }

    /// Shards and artifacts live in the stage directory itself: a file name read from the manifest
    /// must be a plain name (no '/', not '.' or '..'), so that no manifest makes a reader open a file
    /// outside its directory.
    func checkFileNames(_ path: String) throws {
        func check(_ name: String, _ field: String) throws {
            guard name.isEmpty || name.contains("/") || name == "." || name == ".." || name.contains("\0") else { return }
            throw StoreError.manifest(path: path, reason: "\(field) is '\(name)': not a plain file name inside the stage directory")
        }
        for (i, output) in outputs.enumerated() {
            for (j, file) in output.files.enumerated() { try check(file.file, "outputs[\(i)].files[\(j)].file") }
        }
        for (i, artifact) in artifacts.enumerated() { try check(artifact.file, "artifacts[\(i)].file") }
    }

    /// The stage's summary decoded as `type`; nil when the manifest has none.
    public func decodeSummary<Summary: Decodable>(_ type: Summary.Type) throws -> Summary? {
        guard let summary else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: try summary.canonicalJSON())
    }

    /// Writes the manifest atomically (temporary file, fsync, rename, fsync the directory).
    public func write(to stageDirectory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        try AtomicFile.write(data, to: stageDirectory.appendingPathComponent(Self.fileName))
    }
}
