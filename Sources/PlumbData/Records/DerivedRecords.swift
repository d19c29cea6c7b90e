import Foundation

/// Records derived from rankings and edits, so that reward models and DPO see plain comparisons.
public enum DerivedRecords {
    /// All pairs of a k-way ranking (InstructGPT, Ouyang et al. 2022, §3.5: every one of the
    /// k-choose-2 pairs is a comparison). Ties give no pair. Strength from the rank gap:
    /// 1 -> slightly_better, 2 -> better, >= 3 -> significantly_better (`preferenceLevel(rankGap:)`).
    /// A ranking with scores gives each pair the score gap as its margin instead. A ranking without
    /// a prompt gives no pairs.
    public static func pairs(of ranking: Ranking) -> [Comparison] {
        guard !ranking.prompt.messages.isEmpty else { return [] }
        var comparisons: [Comparison] = []
        for i in ranking.responses.indices {
            for j in ranking.responses.indices where ranking.ranks[i] < ranking.ranks[j] {
                guard let level = preferenceLevel(rankGap: ranking.ranks[j] - ranking.ranks[i]) else { continue }
                let strength: PreferenceStrength = ranking.scores.map { .margin($0[i] - $0[j]) } ?? .level(level)
                comparisons.append(Comparison(
                    id: "\(ranking.id):\(i)>\(j)", prompt: ranking.prompt, chosen: ranking.responses[i], rejected: ranking.responses[j],
                    dimension: ranking.dimension, strength: strength, annotator: ranking.annotator, source: ranking.source))
            }
        }
        return comparisons
    }

    /// An edit gives a gold demonstration (the edited text) and a comparison preferring the edit
    /// to the model's original response (strength unknown).
    public static func records(of edit: Edit) -> (Demonstration, Comparison) {
        let demonstration = Demonstration(id: "\(edit.id):gold", prompt: edit.prompt, response: edit.edited, origin: .edit,
                                          annotator: edit.annotator, source: edit.source)
        let comparison = Comparison(id: "\(edit.id):edit", prompt: edit.prompt, chosen: edit.edited, rejected: edit.original,
                                    dimension: .helpfulness, annotator: edit.annotator, source: edit.source)
        return (demonstration, comparison)
    }

    /// The records derived from one accepted record (empty for other kinds).
    static func derived(from record: Record) -> [Record] {
        switch record {
        case .ranking(let ranking): return pairs(of: ranking).map(Record.comparison)
        case .edit(let edit):
            let (demonstration, comparison) = records(of: edit)
            return [.demonstration(demonstration), .comparison(comparison)]
        default: return []
        }
    }
}
