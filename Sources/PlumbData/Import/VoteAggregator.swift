import Foundation

/// Repeated judgements of one pair (several annotators, expert A/B sets, arena votes on the same
/// two answers, MT-Bench judges) folded into one record instead of being dropped as duplicates.
///
/// A pair is its dimension, its prompt and its two sides (each side's own history and final
/// answer, whitespace-normalised), in either order. The importer reads such a file twice: the
/// first pass tallies the votes of every pair (`count`), 8 bytes of key and 24 of counts each; the
/// second (`resolve`) turns a pair's first record into the aggregated one and folds the others
/// into it (counted `aggregated`). A pair judged once keeps its record as the source wrote it.
///
/// Majority vote over the w votes for one side, l for the other, t ties (plain or both bad):
///
/// | votes | record | strength |
/// |---|---|---|
/// | w > l, w >= t, l = 0, t = 0 (unanimous) | comparison | significantly_better |
/// | w > l, w >= t, l = 0, t > 0 | comparison | better |
/// | w > l, w >= t, l > 0 (split) | comparison | slightly_better |
/// | w = l, or t > w | tie record (`both_bad` when both-bad votes outnumber plain ties) | none |
///
/// The aggregated record carries the counts relative to its chosen side (`details.votes`), no
/// annotator, and none of one annotator's aspects or justification.
public struct VoteAggregator {
    private struct Tally {
        var first = 0, second = 0, tie = 0, bothBad = 0
        var emitted = false
        var total: Int { first + second + tie + bothBad }
    }

    enum Outcome: Equatable {
        /// Judged once: the record as it is.
        case single(Comparison)
        /// The first record of a pair judged several times, replaced by the aggregate.
        case aggregated(Comparison)
        /// A later judgement of a pair already emitted.
        case folded
    }

    private var tallies: [UInt64: Tally] = [:]

    /// Pass 1: counts one judgement.
    mutating func count(_ comparison: Comparison) {
        let (key, chosenIsFirst) = VoteAggregator.key(comparison)
        var tally = tallies[key] ?? Tally()
        switch comparison.details.tie {
        case .tie?: tally.tie += 1
        case .bothBad?: tally.bothBad += 1
        case nil: if chosenIsFirst { tally.first += 1 } else { tally.second += 1 }
        }
        tallies[key] = tally
    }

    /// Pass 2: what becomes of one judgement (the same records, in the same order, as pass 1).
    mutating func resolve(_ comparison: Comparison) -> Outcome {
        let (key, chosenIsFirst) = VoteAggregator.key(comparison)
        guard var tally = tallies[key], tally.total > 1 else { return .single(comparison) }
        if tally.emitted { return .folded }
        tally.emitted = true
        tallies[key] = tally
        // Counts relative to this record's chosen side (a tie record lists its first response as chosen).
        let mine = chosenIsFirst ? tally.first : tally.second, other = chosenIsFirst ? tally.second : tally.first
        return .aggregated(VoteAggregator.aggregate(comparison, forChosen: mine, forRejected: other,
                                                    ties: tally.tie, bothBad: tally.bothBad))
    }

    /// The record the votes decide, built from one of the pair's judgements.
    static func aggregate(_ record: Comparison, forChosen mine: Int, forRejected other: Int, ties: Int, bothBad: Int) -> Comparison {
        var out = record
        let flip = other > mine
        if flip {
            swap(&out.chosen, &out.rejected)
            swap(&out.chosenSafe, &out.rejectedSafe)
            swap(&out.details.chosenHistory, &out.details.rejectedHistory)
            swap(&out.details.chosenModel, &out.details.rejectedModel)
        }
        let (winner, loser) = flip ? (other, mine) : (mine, other)
        let tied = ties + bothBad
        out.annotator = nil
        out.details.aspects = nil
        out.details.justification = nil
        out.details.preferenceFrom = "majority"
        out.details.votes = VoteCounts(chosen: winner, rejected: loser, tie: ties, bothBad: bothBad)
        if winner > loser, winner >= tied {
            out.details.tie = nil
            out.strength = .level(loser == 0 ? (tied == 0 ? .significantlyBetter : .better) : .slightlyBetter)
        } else {
            out.details.tie = bothBad > ties ? .bothBad : .tie
            out.strength = nil
        }
        return out
    }

    /// How an aggregate's judges agreed: `unanimous`, `no_opposing_vote` (some ties), `split`, or
    /// `tie` (no majority); nil for a record judged once.
    public static func agreement(_ aggregate: Comparison) -> String? {
        guard let votes = aggregate.details.votes else { return nil }
        if aggregate.isTie { return "tie" }
        if votes.rejected > 0 { return "split" }
        return votes.tie + votes.bothBad > 0 ? "no_opposing_vote" : "unanimous"
    }

    /// The pair's key and whether the record's chosen side is the pair's first (lower-hashed) side.
    static func key(_ comparison: Comparison) -> (UInt64, chosenIsFirst: Bool) {
        let chosen = side(comparison.details.chosenHistory, comparison.chosen)
        let rejected = side(comparison.details.rejectedHistory, comparison.rejected)
        let chosenIsFirst = chosen <= rejected
        var hasher = FNV1a64()
        for part in [comparison.dimension.rawValue, Validator.normalise(comparison.prompt.text)]
            + (chosenIsFirst ? [chosen, rejected] : [rejected, chosen]) {
            hasher.add(part)
            hasher.add(0)
        }
        return (hasher.value, chosenIsFirst)
    }

    private static func side(_ history: [Message]?, _ response: String) -> String {
        let turns = (history ?? []).map { "\($0.role.rawValue):\(Validator.normalise($0.content))" }
        return (turns + [Validator.normalise(response)]).joined(separator: "\u{1}")
    }
}
