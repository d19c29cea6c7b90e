import Foundation

/// Which quality a comparison judges (Llama 2 trains one reward model per dimension).
public enum PreferenceDimension: String, Codable, CaseIterable, Sendable {
    case helpfulness
    case safety
}

/// Llama 2's four preference levels (Touvron et al. 2023, §3.2.1).
public enum PreferenceLevel: String, Codable, CaseIterable, Sendable {
    case significantlyBetter = "significantly_better"
    case better
    case slightlyBetter = "slightly_better"
    case negligiblyBetter = "negligibly_better"
}

/// How strongly the chosen response is preferred: a Llama 2 level, or a numeric margin from a
/// source that scores (UltraFeedback score differences, SHP score ratios kept as numbers).
/// A comparison without a known strength has `strength == nil`.
public enum PreferenceStrength: Equatable, Hashable, Sendable {
    case level(PreferenceLevel)
    case margin(Double)
}

/// Maps a rank gap in a k-way ranking to a level: 1 -> slightly_better, 2 -> better,
/// 3 or more -> significantly_better. Ties (gap 0) give no comparison.
public func preferenceLevel(rankGap: Int) -> PreferenceLevel? {
    switch rankGap {
    case ..<1: return nil
    case 1: return .slightlyBetter
    case 2: return .better
    default: return .significantlyBetter
    }
}
