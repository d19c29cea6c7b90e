// What the pipeline runner needs from the program that calls it, handed in so this library sees no
// command line and no oracle: the stage kinds it knows, what a stage may use that the stage libraries
// cannot give (the task's judge), how a data-parallel run starts and where this process writes then,
// where progress and notices go, the pipeline files the binary carries, and the kind whose output
// names a run's task.
import Foundation
import PlumbStages

public struct PipelineServices {
    public var registry: StageRegistry
    public var environment: StageEnvironment
    /// Starts the data-parallel run a stage asks for (`distributed: mpi`), when it asks, and returns
    /// the location this process writes (a rank's own, for ranks other than 0).
    public var location: (StageLocation, DistributedMode?) throws -> StageLocation
    /// The progress handler of the stage named.
    public var progress: (String) -> ProgressHandler
    public var log: (String) -> Void
    /// `builtin:NAME` files: name -> text.
    public var builtInFiles: [String: String]
    /// The kind whose complete output's checksum identifies a run's task (runs of one chain must share it).
    public var taskKind: StageKind?

    public init(registry: StageRegistry, environment: StageEnvironment = StageEnvironment(),
                location: @escaping (StageLocation, DistributedMode?) throws -> StageLocation = { location, _ in location },
                progress: @escaping (String) -> ProgressHandler = { _ in { _ in } }, log: @escaping (String) -> Void = StageRun.standardError,
                builtInFiles: [String: String] = [:], taskKind: StageKind? = nil) {
        self.registry = registry
        self.environment = environment
        self.location = location
        self.progress = progress
        self.log = log
        self.builtInFiles = builtInFiles
        self.taskKind = taskKind
    }
}

/// Told of each stage the runner reaches: a complete one is skipped, another is run through `run`
/// (which times it, say).
public protocol PipelineStepObserver {
    func run(_ stage: String, _ body: () throws -> Void) throws
    func skip(_ stage: String)
}
