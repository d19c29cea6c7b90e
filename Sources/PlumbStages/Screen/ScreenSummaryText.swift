// A screen as `plumb screen` prints it: each set's screened, lexicon-hit and flagged counts, and on
// labelled responses each step's precision and recall.
import Foundation

extension SafetyScreenStage.Summary {
    public var text: String {
        var lines: [String] = []
        for (name, counts) in sets.sorted(by: { $0.key < $1.key }) {
            lines.append("\(name): \(counts.screened) screened, \(counts.lexiconHits) lexicon hits, \(counts.flagged) flagged")
        }
        let f = figures
        if f.labelled > 0 {
            lines.append("labelled responses: \(f.labelled) (\(f.unsafe) unsafe)")
            for (step, counts) in [("lexicon", f.lexicon), ("lexicon + classifier", f.lexiconThenClassifier), ("classifier alone", f.classifier)] {
                guard let counts else { continue }
                lines.append(String(format: "  %@: precision %.3f, recall %.3f (%d flagged)", step, counts.precision, counts.recall,
                             counts.truePositives + counts.falsePositives))
            }
        }
        return lines.joined(separator: "\n")
    }
}
