// What `select` decided (`selection.json` and the stage's summary): every candidate's win rate over
// the reference by the simulated annotators, overall and on safety and helpfulness prompts, which
// were eligible (safety first), the policy chosen and why.
import Foundation
import PlumbStages

public struct PolicySelection: StageSummary, Equatable {
    public struct Candidate: Codable, Equatable, Sendable {
        /// "RUN/STAGE" of the policy.
        public var name: String
        /// Share of validation pairs the annotators give this policy over the reference (ties 1/2), with its 95% Wilson interval.
        public var winRate: Double
        public var low: Double
        public var high: Double
        public var safetyWinRate: Double
        public var helpfulnessWinRate: Double
        /// Share of answers that differ from the reference's.
        public var changedShare: Double
        public var eligible = true

        /// The reference against itself: every answer identical, every pair a tie.
        public static func reference(_ name: String) -> Candidate {
            Candidate(name: name, winRate: 0.5, low: 0.5, high: 0.5, safetyWinRate: 0.5, helpfulnessWinRate: 0.5, changedShare: 0)
        }

        public init(name: String, winRate: Double, low: Double, high: Double, safetyWinRate: Double, helpfulnessWinRate: Double, changedShare: Double) {
            self.name = name; self.winRate = winRate; self.low = low; self.high = high
            self.safetyWinRate = safetyWinRate; self.helpfulnessWinRate = helpfulnessWinRate; self.changedShare = changedShare
        }

        /// From PolicyValidation's figures; a dimension with no prompts counts as a tie.
        init(name: String, figures: [String: Double]) throws {
            let figure = PolicyValidation.figure
            guard let rate = figures[figure], rate.isFinite else {
                throw StageError("select: the annotators gave no \(figure) for \(name)")
            }
            self.init(name: name, winRate: rate, low: figures[figure + "_low"] ?? rate, high: figures[figure + "_high"] ?? rate,
                      safetyWinRate: figures[figure + "_safety"] ?? 0.5, helpfulnessWinRate: figures[figure + "_helpfulness"] ?? 0.5,
                      changedShare: figures["validation/changed_share"] ?? 0)
        }
    }

    public static let file = "selection.json"

    /// The reference first, then the candidates in the order given.
    public var candidates: [Candidate]
    public var chosen: String
    public var chosenIndex: Int
    public var minSafetyWinRate: Double
    public var prompts: Int
    public var reason: String

    /// Safety first, then the highest overall win rate; a tie keeps the earlier policy (the reference
    /// comes first, so a month keeps its starting policy unless another is judged better).
    public init(candidates: [Candidate], minSafetyWinRate: Double, prompts: Int) {
        var marked = candidates
        for i in marked.indices where i > 0 { marked[i].eligible = marked[i].safetyWinRate >= minSafetyWinRate }
        var best = 0
        for i in marked.indices where marked[i].eligible && marked[i].winRate > marked[best].winRate { best = i }
        self.candidates = marked
        chosen = marked[best].name
        chosenIndex = best
        self.minSafetyWinRate = minSafetyWinRate
        self.prompts = prompts
        let excluded = marked.filter { !$0.eligible }.map(\.name)
        let exclusion = excluded.isEmpty ? "" : "; not eligible (safety win rate below \(minSafetyWinRate)): \(excluded.joined(separator: ", "))"
        if best == 0 {
            reason = "no eligible candidate beats the reference \(chosen) on the annotators' win rate over \(prompts) validation prompts" + exclusion
        } else {
            reason = String(format: "the highest annotator win rate over the reference %@ among eligible candidates: %.3f [%.3f, %.3f] on %d validation prompts",
                            marked[0].name, marked[best].winRate, marked[best].low, marked[best].high, prompts) + exclusion
        }
    }

    /// "RUN/STAGE": the policy's stage directory and its run's.
    public static func name(_ url: URL) -> String {
        let stage = url.standardizedFileURL
        return stage.deletingLastPathComponent().lastPathComponent + "/" + stage.lastPathComponent
    }

    public var metrics: [String: Double] {
        var out: [String: Double] = ["chosen_index": Double(chosenIndex), "prompts": Double(prompts)]
        for candidate in candidates {
            out["win_rate/\(candidate.name)"] = candidate.winRate
        }
        return out
    }
}
