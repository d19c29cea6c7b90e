// Writing one stage directory `runs/<run>/<stage>/`: begin (take the run lock, clear an unfinished
// earlier attempt, write a `running` manifest), write shards and artifacts, record metrics, then
// complete or fail. The stage counts as complete only once its manifest says so.
import Foundation

public final class StageWriter {
    public let directory: URL
    public private(set) var manifest: StageManifest
    private let lock: RunLock
    private var closed = false

    /// Begins stage `stage` (of kind `kind`) of run `run` under `runsRoot`. Refuses if another process
    /// holds the run's lock, or if the stage is already complete and `replaceComplete` is false.
    /// `log` receives notices (a stale lock taken over, an unfinished attempt cleared).
    public static func begin<Config: Encodable>(
        runsRoot: URL, run: String, stage: String, kind: String, config: Config, inputs: [URL] = [],
        seed: UInt64? = nil, code: CodeVersion = .current(), replaceComplete: Bool = false, keepUnfinished: Bool = false,
        key givenKey: String? = nil, slots: [String: [SlotInput]]? = nil,
        log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    ) throws -> StageWriter {
        try ShardNaming.validate(run)
        try ShardNaming.validate(stage)
        let runDirectory = runsRoot.appendingPathComponent(run)
        let lock = try RunLock(runDirectory: runDirectory)
        if let stale = lock.brokeStaleHolder { log("plumb: took over the stale lock of \(runDirectory.path) left by \(stale)") }
        let directory = runDirectory.appendingPathComponent(stage)
        let configJSON: JSONValue
        do { configJSON = try JSONValue(encoding: config) } catch {
            throw StoreError.badInput("stage \(stage): config does not encode as JSON: \(error)")
        }
        let stageInputs = try inputs.map { try describeInput($0, runsRoot: runsRoot) }
        let key = try givenKey ?? CacheKey.compute(kind: kind, config: CacheKey.locationIndependent(configJSON, runsRoot: runsRoot),
                                                   inputSHA256s: stageInputs.map(\.sha256), code: code)
        var keep = false
        if let previous = try? StageManifest.read(from: directory) {
            if previous.status == .complete && !replaceComplete {
                throw StoreError.badInput("\(directory.path) is already complete (cache key \(previous.cacheKey)); remove it to run it again")
            }
            // A training stage resumes an unfinished attempt of the same work (same cache key) from its
            // checkpoints; anything else is cleared.
            keep = keepUnfinished && previous.status != .complete && previous.cacheKey == key
            log(keep ? "plumb: resuming the earlier \(previous.status.rawValue) attempt in \(directory.path)"
                     : "plumb: clearing the earlier \(previous.status.rawValue) attempt in \(directory.path)")
        }
        if !keep {
            try? FileManager.default.removeItem(at: directory)
        }
        try AtomicFile.makeDirectory(directory)
        let manifest = StageManifest(
            formatVersion: StageManifest.currentFormatVersion, run: run, stage: stage, kind: kind, config: configJSON,
            inputs: stageInputs, outputs: [], artifacts: [], metrics: [:], codeVersion: code, seed: seed,
            startedAt: isoTimestamp(), endedAt: nil, host: ProcessInfo.processInfo.hostName, pid: getpid(),
            status: .running, error: nil, cacheKey: key, slots: slots)
        try manifest.write(to: directory)
        return StageWriter(directory: directory, manifest: manifest, lock: lock)
    }

    private init(directory: URL, manifest: StageManifest, lock: RunLock) {
        self.directory = directory
        self.manifest = manifest
        self.lock = lock
    }

    deinit {
        if !closed { fail(StoreError.badInput("the stage writer was dropped before complete()")) }
    }

    /// A shard writer for output set `name` in this stage's directory; pass its `finish()` to `addOutput`.
    public func shardWriter(name: String, options: ShardWriter.Options = ShardWriter.Options()) throws -> ShardWriter {
        try ShardWriter(directory: directory, name: name, options: options)
    }

    /// Records a finished shard set as an output of this stage.
    public func addOutput(name: String, files: [ShardFileInfo]) throws {
        guard !manifest.outputs.contains(where: { $0.name == name }) else {
            throw StoreError.badInput("stage \(manifest.stage): output '\(name)' added twice")
        }
        manifest.outputs.append(StageOutput(name: name, files: files))
    }

    /// Stores the file at `source` (e.g. a safetensors checkpoint) zstd-compressed as `<name>.zst`.
    @discardableResult
    public func storeArtifact(name: String, from source: URL, zstd: ZstdSettings = ZstdSettings()) throws -> StoredArtifact {
        let artifact = try ArtifactStore.store(source, name: name, in: directory, zstd: zstd)
        manifest.artifacts.append(artifact)
        return artifact
    }

    public func setMetric(_ name: String, _ value: Double) { manifest.metrics[name] = value }

    /// Records the stage's typed summary in the manifest.
    /// A non-finite number is stored as the string "nan", "inf" or "-inf" (`StageManifest.decodeSummary`).
    public func setSummary<Summary: Encodable>(_ summary: Summary) throws {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        manifest.summary = try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(summary))
    }

    /// Records plain files the stage wrote in its directory (by name), with their checksums.
    public func recordFiles(_ names: [String]) throws {
        var files = manifest.files ?? []
        for name in names.sorted() where !files.contains(where: { $0.name == name }) {
            let url = directory.appendingPathComponent(name)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int else {
                throw StoreError.notFound(path: url.path, reason: "the stage lists it as written but it is missing")
            }
            files.append(StageFile(name: name, sha256: try SHA256.hex(ofFile: url), bytes: size))
        }
        manifest.files = files
    }

    /// Marks the stage complete (manifest written atomically) and releases the run lock.
    public func complete() throws {
        manifest.status = .complete
        manifest.endedAt = isoTimestamp()
        try manifest.write(to: directory)
        closed = true
        lock.release()
    }

    /// Runs a begun stage's work: completes the stage when `body` returns, marks it failed (and
    /// rethrows) when `body` throws. Every stage kind ends this way.
    public func finish<Result>(_ body: () throws -> Result) throws -> Result {
        do {
            let result = try body()
            try complete()
            return result
        } catch {
            fail(error)
            throw error
        }
    }

    /// Marks the stage failed with `error` (best effort) and releases the run lock.
    public func fail(_ error: Error) {
        manifest.status = .failed
        manifest.error = "\(error)"
        manifest.endedAt = isoTimestamp()
        try? manifest.write(to: directory)
        closed = true
        lock.release()
    }

    /// The input's checksum and size, and which stage wrote it when a manifest beside it lists it;
    /// its path relative to the runs root when it lies inside it, so a moved run records the same.
    static func describeInput(_ url: URL, runsRoot: URL) throws -> StageInput {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let size = attributes?[.size] as? Int else {
            throw StoreError.notFound(path: url.path, reason: "input file is missing")
        }
        let producer = try? StageManifest.read(from: url.deletingLastPathComponent())
        let listed = producer.map { m in
            m.outputs.contains { $0.files.contains { $0.file == url.lastPathComponent } }
                || m.artifacts.contains { $0.file == url.lastPathComponent }
        } ?? false
        let root = runsRoot.standardizedFileURL.path, full = url.standardizedFileURL.path
        let prefix = root.hasSuffix("/") ? root : root + "/"
        let path = url.path.hasPrefix("/") && full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : url.path
        return StageInput(path: path, sha256: try SHA256.hex(ofFile: url), bytes: size,
                          producedBy: listed ? "\(producer!.run)/\(producer!.stage)" : nil)
    }

    /// The manifest of `runs/<run>/<stage>` if that stage completed with cache key `key`, else nil.
    public static func completed(runsRoot: URL, run: String, stage: String, cacheKey key: String) -> StageManifest? {
        guard let m = try? StageManifest.read(from: runsRoot.appendingPathComponent(run).appendingPathComponent(stage)),
              m.status == .complete, m.cacheKey == key else { return nil }
        return m
    }
}
