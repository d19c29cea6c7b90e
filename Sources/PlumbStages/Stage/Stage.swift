// A stage as a value: one kind name, a Codable `Parameters` with defaults and `validate()`, declared
// input slots, a typed `Summary`, and a body in two steps that `StageRun` calls in order:
//   prepare: read and check the inputs (nothing written yet), say which files were read;
//   execute: write the stage directory through the `StageContext`.
// The command line (`plumb KIND ...`) and the pipeline runner both call `StageRun.run`, so a stage
// run by hand and the same stage in a pipeline file execute the same code.
import Foundation
import PlumbData
import PlumbStore

public protocol StageParameters: Codable, Sendable {
    /// Every parameter at its default.
    init()
    /// Throws `StageParameterError` naming the key of a value out of range.
    func validate() throws
    /// The seed the manifest records, when the stage has one.
    var manifestSeed: UInt64? { get }
}

extension StageParameters {
    public func validate() throws {}
    public var manifestSeed: UInt64? { nil }
}

/// A parameter value out of range, named by its key (the pipeline key and the command-line flag).
public struct StageParameterError: Error, CustomStringConvertible {
    public var key: String
    public var message: String
    public init(_ key: String, _ message: String) { self.key = key; self.message = message }
    public var description: String { "\(key): \(message)" }
}

public protocol StageSummary: Codable, Sendable {
    /// The figures the manifest's `metrics` holds (flat names, as TRL and TensorBoard spell them).
    var metrics: [String: Double] { get }
}

/// What `prepare` hands to `execute`: the loaded value and every file read, for the manifest's lineage.
public struct Prepared<Value> {
    public var value: Value
    public var files: [URL]
    public init(_ value: Value, files: [URL]) { self.value = value; self.files = files }
}

/// What a rerun of a stage directory that already holds an attempt does.
public enum StageRerun: Sendable {
    /// Keep an unfinished attempt with the same key (the stage resumes from its checkpoints or
    /// chunks); refuse a complete one.
    case resume
    /// Clear an unfinished attempt; refuse a complete one.
    case fresh
    /// Clear whatever is there (evaluations, cheap to redo).
    case replace
}

public protocol Stage {
    associatedtype Parameters: StageParameters
    associatedtype Summary: StageSummary
    associatedtype Loaded

    static var kind: StageKind { get }
    /// One line for `plumb help`.
    static var abstract: String { get }
    static var slots: [InputSlot] { get }
    /// The file a reference to the whole stage means (`spm.model`), when not its directory.
    static var mainFile: String? { get }
    static var rerun: StageRerun { get }

    static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded>
    static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> Summary
}

extension Stage {
    public static var mainFile: String? { nil }
    public static var rerun: StageRerun { .fresh }
}

/// What `execute` writes through: the stage's writer (shards, artifacts, files), where it is, and
/// where its events and notices go.
public struct StageContext {
    public let writer: StageWriter
    public let location: StageLocation
    public let progress: ProgressHandler
    public let log: (String) -> Void
    public let environment: StageEnvironment
    public var directory: URL { writer.directory }
}

extension StageContext {
    /// Records every plain file written in the stage directory (not the manifest, not hidden names)
    /// in the manifest, so the stage's content checksum covers them.
    public func recordWrittenFiles() throws {
        let names = try StageContent.files(directory).filter { $0 != StageManifest.fileName && !$0.hasPrefix(".") && !$0.contains("/") }
        try writer.recordFiles(names)
    }
}

/// What a stage may use that its own library cannot provide: the task's oracle lives above
/// PlumbStages (no training code may see the judge), so the caller that can see it hands it in.
public struct StageEnvironment {
    /// The judge of a live policy on a prompts file: (prompts, tokenizer with template, sampling, seed) -> judge.
    public var policyJudge: ((URL, TemplatedTokenizer, SamplingSettings, UInt64) throws -> PPOStage.PolicyJudge)?
    public init(policyJudge: ((URL, TemplatedTokenizer, SamplingSettings, UInt64) throws -> PPOStage.PolicyJudge)? = nil) {
        self.policyJudge = policyJudge
    }
}

/// The parameters of a stage that has none.
public struct NoParameters: StageParameters, Equatable {
    public init() {}
}
