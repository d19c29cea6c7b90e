// What `plumb task month` and `plumb task annotate --as comparisons` print of their stages' summaries.
import Foundation

extension TaskMonthStage.Summary {
    /// Each file's records, then month `month`'s seed, id prefix and held-out check.
    public func text(month: Int) -> String {
        (records.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value) records" }
            + ["task month \(month) (seed \(seed), ids \(idPrefix)-*): no prompt held out or equal to any of \(evalPromptsChecked) eval prompts"])
            .joined(separator: "\n")
    }
}

extension TaskAnnotateComparisonsStage.Summary {
    /// Pairs by dimension, of how many tasks of `tasks` (the file), and the annotators' disagreements with the oracle.
    public func text(tasks file: String) -> String {
        let dimensions = perDimension.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "\(pairs) comparisons (\(dimensions.isEmpty ? "none" : dimensions)) of \(self.tasks) tasks of \(file); "
            + "\(tied) tied for the oracle, \(disagreeing) chose the oracle's worse, \(wrongSafetyLabels) with a wrong safety label"
    }
}
