// A run directory made by the pipeline runner, and the chain of earlier runs it builds on
// (`--previous`). `pipeline-run.json` records the pipeline, its stages and the previous run (as a
// path relative to this run, so runs moved together stay linked); references such as
// `previous:ppo` or `history:rs-human` resolve through the chain.
import Foundation
import PlumbFiles
import PlumbStore

/// `RUN/pipeline-run.json`.
struct PipelineRunRecord: Codable, Equatable {
    var format = 1
    var pipeline: String
    /// Every stage of the pipeline file, in order.
    var stages: [String]
    /// The previous run, relative to this run's directory.
    var previous: String?
    /// The output checksum of the task the run's stages were made on (its `task generate` stage,
    /// here or in an earlier run), once known.
    var task: String?

    static let fileName = "pipeline-run.json"

    static func read(_ run: URL) throws -> PipelineRunRecord? {
        let file = run.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do { return try JSONDecoder().decode(PipelineRunRecord.self, from: Data(contentsOf: file)) } catch {
            throw PipelineError("\(file.path): unreadable run record: \(error)")
        }
    }

    func write(_ run: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: run.appendingPathComponent(Self.fileName))
    }
}

/// A reference to a stage's output in a pipeline file: `STAGE`, `STAGE/FILE`, or one of those
/// after `previous:` (the previous run's), `latest:` (the newest earlier run that has the stage) or
/// `history:` (every earlier run that has it, oldest first; possibly none).
public struct PipelineRef: Hashable {
    enum Scope: String { case local, previous, latest, history }
    var scope: Scope
    var stage: String
    var path: String?

    init(_ text: String, at: PipelineLocation) throws {
        var rest = Substring(text)
        scope = .local
        if let colon = rest.firstIndex(of: ":") {
            guard let s = Scope(rawValue: String(rest[..<colon])), s != .local else {
                throw PipelineError(at, "\"\(text)\": a reference is STAGE[/FILE], or previous:, latest: or history: before it")
            }
            scope = s
            rest = rest[rest.index(after: colon)...]
        }
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, !first.isEmpty else { throw PipelineError(at, "\"\(text)\": names no stage") }
        stage = first
        path = parts.count > 1 ? parts[1] : nil
        if let path, path.split(separator: "/").contains("..") { throw PipelineError(at, "\"\(text)\": a path may not leave its stage") }
    }

    public var text: String { (scope == .local ? "" : scope.rawValue + ":") + stage + (path.map { "/" + $0 } ?? "") }
}

/// This run and the earlier runs it builds on, newest first.
public struct PipelineRunChain {
    public var run: URL
    /// Earlier runs, the previous one first.
    public var earlier: [URL]

    public init(run: URL, earlier: [URL]) {
        self.run = run
        self.earlier = earlier
    }

    /// Follows `previous` from `previous` back to the first run, checking each is complete.
    static func open(run: URL, previous: URL?) throws -> PipelineRunChain {
        var earlier: [URL] = []
        var next = previous
        while let dir = next?.standardizedFileURL {
            guard !earlier.contains(dir), dir != run.standardizedFileURL else { throw PipelineError("\(dir.path): the chain of previous runs loops") }
            guard let record = try PipelineRunRecord.read(dir) else {
                throw PipelineError("\(dir.path): not a pipeline run (no \(PipelineRunRecord.fileName)); --previous names a run made by `plumb pipeline run`")
            }
            let missing = record.stages.filter { (try? PipelineStageRecord.read(dir.appendingPathComponent($0))) == nil }
            guard missing.isEmpty else {
                throw PipelineError("\(dir.path): the previous run is incomplete: \(missing.count) stage(s) not complete (\(missing.prefix(5).joined(separator: ", "))); finish it first with `plumb pipeline run`")
            }
            earlier.append(dir)
            // `previous` is relative to this run's directory (not to its parent, as URL's relativeTo: would read it).
            next = record.previous.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : dir.appendingPathComponent($0) }
        }
        return PipelineRunChain(run: run.standardizedFileURL, earlier: earlier)
    }

    /// The stage directories a scoped reference means (local references are resolved by the plan).
    func stageDirectories(_ ref: PipelineRef, at: PipelineLocation) throws -> [URL] {
        let having = earlier.filter { (try? PipelineStageRecord.read($0.appendingPathComponent(ref.stage))) != nil }
        switch ref.scope {
        case .local:
            return [run.appendingPathComponent(ref.stage)]
        case .previous:
            guard let previous = earlier.first else { throw PipelineError(at, "\"\(ref.text)\" needs --previous RUN") }
            guard having.first == previous else { throw PipelineError(at, "\"\(ref.text)\": \(previous.path) has no complete stage \(ref.stage)") }
            return [previous.appendingPathComponent(ref.stage)]
        case .latest:
            guard let newest = having.first else {
                throw PipelineError(at, "\"\(ref.text)\": no earlier run has a complete stage \(ref.stage)" + (earlier.isEmpty ? " (no --previous given)" : ""))
            }
            return [newest.appendingPathComponent(ref.stage)]
        case .history:
            return having.reversed().map { $0.appendingPathComponent(ref.stage) }
        }
    }

    /// `target` as a path relative to this run's directory (`../2026-11/sft` for a previous month).
    public func relative(_ target: URL) -> String {
        let from = run.standardizedFileURL.pathComponents, to = target.standardizedFileURL.pathComponents
        var common = 0
        while common < min(from.count, to.count) && from[common] == to[common] { common += 1 }
        let ups = Array(repeating: "..", count: from.count - common)
        let parts = ups + to[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
