// How a trained model starts, for the stages that may start from nothing: a fresh model of a
// preset's shape (`init-from: tiny`, a parameter) or the model of a stage or Hugging Face directory
// (`init-from: DIR`, the input slot of the same name); a `config` input overrides the preset's shape.
import PlumbModel

public struct ModelInitGroup: ParameterGroup, Equatable {
    /// A preset whose shape a fresh model takes (nil: the `init-from` input or the `config` input).
    public var initFrom: String?
    /// Seed of a fresh model's weights.
    public var initSeed: UInt64 = 1

    public init() {}

    public var preset: LlamaPreset? { initFrom.flatMap(LlamaPreset.init(rawValue:)) }

    public func validate() throws {
        if let initFrom, preset == nil {
            throw StageParameterError("init-from", "\(initFrom) is no preset (\(LlamaPreset.allCases.map(\.rawValue).joined(separator: ", "))) and no input")
        }
    }
}
