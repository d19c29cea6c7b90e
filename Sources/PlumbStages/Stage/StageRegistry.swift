// The stage kinds a caller knows: one registration line per kind. The pipeline runner and the
// command line look kinds up here; a test (or a later library) adds its own kinds to a copy.
import Foundation

public struct StageRegistry {
    public private(set) var stages: [any Stage.Type]

    public init(_ stages: [any Stage.Type]) { self.stages = stages }

    public func stage(_ kind: StageKind) -> (any Stage.Type)? { stages.first { $0.kind == kind } }
    public var kinds: [StageKind] { stages.map { $0.kind } }

    /// This registry with `more` added (a kind already known is replaced).
    public func adding(_ more: [any Stage.Type]) -> StageRegistry {
        StageRegistry(stages.filter { s in !more.contains { $0.kind == s.kind } } + more)
    }

    /// The kinds of this library.
    public static let stages = StageRegistry([
        DataImportStage.self,
        TokenizerTrainStage.self,
        ModelConfigStage.self,
        PretrainStage.self,
        SFTStage.self,
        RewardModelStage.self,
        RewardEvalStage.self,
        RewardScoreStage.self,
        SafetyScreenStage.self,
        RejectionSamplingStage.self,
        HumanFeedbackStage.self,
        DPOStage.self,
        KTOStage.self,
        PPOStage.self,
        RLStage.self,
    ])
}

/// A stage run from keys and values as written (a pipeline file's options or a command line's flags).
public struct StageInvocation {
    public var stage: any Stage.Type
    public var parameters: [ParameterEntry]
    public var inputs: StageInputs
    public init(stage: any Stage.Type, parameters: [ParameterEntry], inputs: StageInputs) {
        self.stage = stage
        self.parameters = parameters
        self.inputs = inputs
    }

    /// Decodes the parameters and checks the inputs, without running anything.
    public func check() throws {
        try stage.checkInvocation(self)
    }

    /// The cache key the stage's manifest will carry.
    public func key(runsRoot: URL) throws -> String { try stage.key(of: self, runsRoot: runsRoot) }

    /// Runs the stage through `StageRun`; returns its summary.
    @discardableResult
    public func run(location: StageLocation, environment: StageEnvironment, progress: @escaping ProgressHandler,
                    log: @escaping (String) -> Void) throws -> any StageSummary {
        try stage.run(self, location: location, environment: environment, progress: progress, log: log)
    }

    /// The data-parallel mode the parameters ask for (`distributed: mpi`), which the caller starts
    /// before running (a plan never does); nil for one process or a kind without the option.
    public func distributedMode() throws -> DistributedMode? {
        (try decodedParameters() as? any DistributedParameters)?.parallel.distributed
    }

    /// The parameters the entries decode to (laid over the defaults, validated).
    public func decodedParameters() throws -> any StageParameters {
        try stage.parameters(self)
    }
}

extension Stage {
    /// Whether `value` alone for `key` decodes into valid parameters: a key that names both a
    /// parameter and an input (`init-from`: a preset, or a model directory) is the parameter for a
    /// value the parameter takes, else the input.
    public static func takesValue(_ value: String, forKey key: String) -> Bool {
        let entry = ParameterEntry(key: key, values: [value], place: "")
        guard let parameters = try? ParameterKeys.decode(Parameters.self, [entry], kind: kind) else { return false }
        return (try? parameters.validate()) != nil
    }

    static func parameters(_ invocation: StageInvocation) throws -> Parameters {
        for key in Parameters.requiredKeys where !invocation.parameters.contains(where: { $0.key == key }) {
            throw StageParameterError(key, "\(kind) needs `\(key)`: no default stands for it")
        }
        let parameters = try ParameterKeys.decode(Parameters.self, invocation.parameters, kind: kind)
        do { try parameters.validate() } catch let error as StageParameterError {
            let place = invocation.parameters.first { $0.key == error.key }?.place ?? ""
            throw ParameterDecodingError(place: place, key: error.key, message: error.message)
        }
        return parameters
    }

    static func checkInvocation(_ invocation: StageInvocation) throws {
        _ = try parameters(invocation)
        try invocation.inputs.check(slots, kind: kind)
    }

    static func key(of invocation: StageInvocation, runsRoot: URL) throws -> String {
        try StageKey.compute(kind: kind, parameters: try parameters(invocation), inputs: invocation.inputs, runsRoot: runsRoot).key
    }

    static func run(_ invocation: StageInvocation, location: StageLocation, environment: StageEnvironment,
                    progress: @escaping ProgressHandler, log: @escaping (String) -> Void) throws -> any StageSummary {
        try StageRun.run(self, try parameters(invocation), inputs: invocation.inputs, location: location, environment: environment,
                         progress: progress, log: log)
    }
}

extension Stage {
    /// The parameter keys a file or command line may give.
    public static func acceptedKeys() throws -> [String] { try ParameterKeys.accepted(Parameters.self) }

    /// The keys whose values are lists.
    public static func listKeys() throws -> [String] { try ParameterKeys.listKeys(Parameters.self) }

    /// Every key with its default as JSON text (nil: none), for help.
    public static func keyDefaults() throws -> [(key: String, value: String?)] {
        try ParameterKeys.defaults(Parameters.self).map { entry in
            (entry.key, try entry.value.map { String(decoding: try $0.canonicalJSON(), as: UTF8.self) })
        }
    }

    /// The keys whose values are true or false (a command line may give them alone: `--keep-ties`).
    public static func flagKeys() throws -> [String] { try ParameterKeys.flagKeys(Parameters.self) }
}
