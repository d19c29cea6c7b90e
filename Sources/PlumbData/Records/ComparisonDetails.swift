import Foundation

/// Why a tie record holds no preference (arena votes: "tie" and "tie (bothbad)").
public enum TieKind: String, Codable, CaseIterable, Sendable {
    case tie
    case bothBad = "both_bad"
}

/// How one aspect (factuality, coherence, ...) judged a comparison's two responses.
public enum AspectVote: String, Codable, CaseIterable, Sendable {
    case chosen
    case rejected
    case tie
}

/// Optional metadata of a comparison, written flat beside its other fields (all absent by default):
/// - `chosen_history` / `rejected_history`: in a multi-turn battle each side answered the earlier
///   turns itself, so the two conversations part after the shared `prompt`. These are each side's
///   turns between the prompt and its final response (assistant, user, ..., user).
/// - `chosen_model` / `rejected_model`: the models that wrote the responses (arena battles).
/// - `aspects`: per-aspect votes relative to chosen / rejected (`chosen` = the aspect agrees).
/// - `preference_from`: the vote that decided chosen / rejected (`overall`, or an aspect's name).
/// - `justification`: the annotator's written reason.
/// - `tie`: set on tie records only; such records go to `ties-<split>`, never `comparisons-<split>`.
/// - `votes`: on a pair judged several times, the judgements aggregated into this record (`VoteCounts`).
/// - `chosen_severity` / `rejected_severity`, `chosen_harm` / `rejected_harm`: PKU-SafeRLHF's harm
///   severity (0 = safe ... 3 = severe) and the harm categories marked present, per response.
public struct ComparisonDetails: Codable, Equatable, Sendable {
    public var chosenHistory: [Message]?
    public var rejectedHistory: [Message]?
    public var chosenModel: String?
    public var rejectedModel: String?
    public var aspects: [String: AspectVote]?
    public var preferenceFrom: String?
    public var justification: String?
    public var tie: TieKind?
    public var votes: VoteCounts?
    public var chosenSeverity: Int?
    public var rejectedSeverity: Int?
    public var chosenHarm: [String]?
    public var rejectedHarm: [String]?

    public init(chosenHistory: [Message]? = nil, rejectedHistory: [Message]? = nil, chosenModel: String? = nil,
                rejectedModel: String? = nil, aspects: [String: AspectVote]? = nil, preferenceFrom: String? = nil,
                justification: String? = nil, tie: TieKind? = nil) {
        self.chosenHistory = chosenHistory
        self.rejectedHistory = rejectedHistory
        self.chosenModel = chosenModel
        self.rejectedModel = rejectedModel
        self.aspects = aspects
        self.preferenceFrom = preferenceFrom
        self.justification = justification
        self.tie = tie
    }

    enum CodingKeys: String, CodingKey {
        case chosenHistory = "chosen_history", rejectedHistory = "rejected_history"
        case chosenModel = "chosen_model", rejectedModel = "rejected_model"
        case aspects, preferenceFrom = "preference_from", justification, tie, votes
        case chosenSeverity = "chosen_severity", rejectedSeverity = "rejected_severity"
        case chosenHarm = "chosen_harm", rejectedHarm = "rejected_harm"
    }
}

/// The judgements of one pair that were aggregated into one record, relative to its chosen
/// response (on a tie record, to the response it lists as chosen). `total` counts all of them.
public struct VoteCounts: Codable, Equatable, Sendable {
    public var chosen: Int
    public var rejected: Int
    public var tie: Int
    public var bothBad: Int

    public init(chosen: Int, rejected: Int, tie: Int, bothBad: Int = 0) {
        self.chosen = chosen
        self.rejected = rejected
        self.tie = tie
        self.bothBad = bothBad
    }

    public var total: Int { chosen + rejected + tie + bothBad }
    /// Every judgement chose the chosen response.
    public var isUnanimous: Bool { chosen == total }

    enum CodingKeys: String, CodingKey {
        case chosen, rejected, tie, bothBad = "both_bad"
    }
}
