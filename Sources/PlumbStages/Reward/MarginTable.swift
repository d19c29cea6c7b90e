// The margin m(rating) of the reward model's ranking loss, from the annotator's preference strength
// (PlumbData's `PreferenceStrength`: a Llama 2 level, or a numeric margin given by the source).
//
// Llama 2 (arXiv 2307.09288), Table 27:
//   rating                        small   large
//   significantly better          1       3
//   better                        2/3     2
//   slightly better               1/3     1
//   negligibly better / unsure    0       0
//
// A comparison that carries its own numeric margin (`.margin(x)`, e.g. an UltraFeedback score
// difference) uses x as is, whatever the table; a comparison without a strength gets 0.
import PlumbData

/// How a comparison's strength becomes the margin `m` in `-log sigmoid(r_c - r_r - m)`.
public enum MarginTable: Codable, Equatable, Sendable {
    /// No margin: the plain binary ranking loss (InstructGPT).
    case none
    /// Llama 2 Table 27, "margin small".
    case small
    /// Llama 2 Table 27, "margin large".
    case large
    /// One margin per level, strongest first.
    case custom(significantlyBetter: Float, better: Float, slightlyBetter: Float, negligiblyBetter: Float)

    /// The tables by name, as a stage's `margin` parameter gives them.
    public enum Name: String, Codable, CaseIterable, Sendable {
        case none, small, large, custom
    }

    /// The table `name` names; `custom` takes four comma-separated margins, strongest first.
    public init(_ name: Name, custom: String?) throws {
        switch name {
        case .none: self = .none
        case .small: self = .small
        case .large: self = .large
        case .custom:
            let values = (custom ?? "").split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 4 else { throw StageParameterError("custom-margins", "\(custom ?? ""): expected four numbers") }
            self = .custom(significantlyBetter: values[0], better: values[1], slightlyBetter: values[2], negligiblyBetter: values[3])
        }
    }

    /// The margin for a comparison of `strength` (see the file comment for numeric margins and nil).
    public func margin(for strength: PreferenceStrength?) -> Float {
        switch strength {
        case nil: return 0
        case .margin(let value): return Float(value)
        case .level(let level): return margin(for: level)
        }
    }

    /// The table's margin for a Llama 2 level.
    public func margin(for level: PreferenceLevel) -> Float {
        switch self {
        case .none:
            return 0
        case .small:
            switch level {
            case .significantlyBetter: return 1
            case .better: return 2.0 / 3.0
            case .slightlyBetter: return 1.0 / 3.0
            case .negligiblyBetter: return 0
            }
        case .large:
            switch level {
            case .significantlyBetter: return 3
            case .better: return 2
            case .slightlyBetter: return 1
            case .negligiblyBetter: return 0
            }
        case let .custom(significantlyBetter, better, slightlyBetter, negligiblyBetter):
            switch level {
            case .significantlyBetter: return significantlyBetter
            case .better: return better
            case .slightlyBetter: return slightlyBetter
            case .negligiblyBetter: return negligiblyBetter
            }
        }
    }
}
