// The margin m(rating) of the reward model's ranking loss, from the annotator's preference strength.
//
// Llama 2 (arXiv 2307.09288), Table 27:
//   rating                        small   large
//   significantly better          1       3
//   better                        2/3     2
//   slightly better               1/3     1
//   negligibly better / unsure    0       0

/// Llama 2's four preference strengths, strongest first.
public enum PreferenceStrength: String, Codable, CaseIterable, Sendable {
    case significantlyBetter = "significantly_better"
    case better = "better"
    case slightlyBetter = "slightly_better"
    case negligiblyBetter = "negligibly_better"
}

/// How a comparison's strength becomes the margin `m` in `-log sigmoid(r_c - r_r - m)`.
public enum MarginTable: Codable, Equatable, Sendable {
    /// No margin: the plain binary ranking loss (InstructGPT).
    case none
    /// Llama 2 Table 27, "margin small".
    case small
    /// Llama 2 Table 27, "margin large".
    case large
    /// One margin per strength, strongest first.
    case custom(significantlyBetter: Float, better: Float, slightlyBetter: Float, negligiblyBetter: Float)

    /// The margin for a comparison of `strength`; a comparison with a numeric margin of its own
    /// (e.g. SHP's score ratio) uses that instead, scaled by nothing.
    public func margin(for strength: PreferenceStrength?) -> Float {
        guard let strength else { return 0 }
        switch self {
        case .none:
            return 0
        case .small:
            switch strength {
            case .significantlyBetter: return 1
            case .better: return 2.0 / 3.0
            case .slightlyBetter: return 1.0 / 3.0
            case .negligiblyBetter: return 0
            }
        case .large:
            switch strength {
            case .significantlyBetter: return 3
            case .better: return 2
            case .slightlyBetter: return 1
            case .negligiblyBetter: return 0
            }
        case let .custom(significantlyBetter, better, slightlyBetter, negligiblyBetter):
            switch strength {
            case .significantlyBetter: return significantlyBetter
            case .better: return better
            case .slightlyBetter: return slightlyBetter
            case .negligiblyBetter: return negligiblyBetter
            }
        }
    }
}
