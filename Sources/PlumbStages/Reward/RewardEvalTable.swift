// The human-readable table of `plumb rm eval`.
import Foundation
import PlumbStore

public enum RewardEvalTable {
    public static func render(_ e: RewardEvaluation) -> String {
        var table = TextTable(["group", "pairs", "accuracy"], rightAligned: [1, 2])
        func add(_ name: String, _ c: AccuracyCount) { table.add([name, "\(c.total)", String(format: "%.3f", c.accuracy)]) }
        add("overall", e.overall)
        let strengthOrder = ["significantly_better", "better", "slightly_better", "negligibly_better", "margin", "unspecified"]
        for key in strengthOrder { if let c = e.byStrength[key] { add("strength " + key, c) } }
        for key in ["unanimous", "no_opposing_vote", "split", "tie"] { if let c = e.byAgreement[key] { add("annotators " + key, c) } }
        for (key, c) in e.bySource.sorted(by: { $0.key < $1.key }) { add("source " + key, c) }
        for (key, c) in e.byDimension.sorted(by: { $0.key < $1.key }) {
            add("dimension " + key, c)
            for s in strengthOrder { if let d = e.byDimensionStrength[key + "." + s] { add("  " + key + " " + s, d) } }
        }
        for (key, c) in e.byTag.sorted(by: { $0.key < $1.key }) { add("tag " + key, c) }
        add("baseline: prefer shorter", e.preferShorter)
        add("baseline: prefer longer", e.preferLonger)
        var lines = [table.render()]
        let s = e.scores
        let quantiles = ScoreStatistics.levels.map { String(format: "p%02d %.3f", Int(($0 * 100).rounded()), s.quantiles[$0] ?? .nan) }
        lines.append(String(format: "scores (%d): mean %.3f  std %.3f  min %.3f  max %.3f  ", s.count, s.mean, s.std, s.min, s.max)
            + quantiles.joined(separator: "  "))
        let u = e.unsafe
        lines.append(u.labelled == 0 ? "unsafe detection: no safety labels in these comparisons"
            : String(format: "unsafe at sigmoid(score) < %.2f: precision %.3f  recall %.3f  (%d labelled responses, %.3f unsafe); AUROC %.3f",
                     u.threshold, u.precision, u.recall, u.labelled, u.unsafeShare, u.auroc))
        return lines.joined(separator: "\n")
    }
}
