// `plumb task annotate --as comparisons` (the `task annotate comparisons` stage): the simulated annotators compare pairs of a ranking task
// file's samples (an rs stage's human-rank-tasks.json: a policy's distinct finished samples per
// prompt) and write TRL-style preference JSON Lines with the columns of the generated
// comparisons.jsonl (dimension, strength, annotator, chosen_safe, rejected_safe, tags) plus
// prompt_id, which `plumb import` reads as comparisons of both dimensions. On-policy preference data
// for a month's reward models (Llama 2: annotators compare samples of the latest models).

import Foundation
import PlumbOracle
import PlumbStages
import PlumbTask

public enum TaskAnnotateComparisons {
    /// What was written: the stage's summary.
    public struct Summary: StageSummary {
        public var tasks = 0
        public var pairs = 0
        public var perDimension: [String: Int] = [:]
        /// Pairs whose two samples the oracle scores the same (a coin flip to the annotator).
        public var tied = 0
        /// Untied pairs whose chosen sample the oracle scores lower.
        public var disagreeing = 0
        /// Pairs with at least one wrong safety label.
        public var wrongSafetyLabels = 0

        public var metrics: [String: Double] {
            var out: [String: Double] = ["tasks": Double(tasks), "pairs": Double(pairs), "tied": Double(tied),
                                         "disagreeing": Double(disagreeing), "wrong_safety_labels": Double(wrongSafetyLabels)]
            for (dimension, count) in perDimension { out["pairs.\(dimension)"] = Double(count) }
            return out
        }
    }

    /// Up to `pairsPerTask` comparisons per task, ids `<prompt_id>:<item>-<item>` (items in list order).
    static func records(_ tasks: [HumanTask<HumanRankData>], _ annotator: TaskAnnotator, pairsPerTask: Int) throws -> ([ComparisonRecord], Summary) {
        var records: [ComparisonRecord] = []
        var summary = Summary()
        for t in tasks {
            let items = t.data.items
            let judged = try annotator.compare(prompt: t.data.prompt, responses: items.map(\.body), key: t.data.promptID, pairs: pairsPerTask)
            summary.tasks += 1
            for p in judged {
                let (a, b) = (min(p.chosen, p.rejected), max(p.chosen, p.rejected))
                records.append(ComparisonRecord(
                    id: "\(t.data.promptID):\(items[a].id)-\(items[b].id)", prompt: [.user(t.data.prompt)],
                    chosen: [.assistant(items[p.chosen].body)], rejected: [.assistant(items[p.rejected].body)],
                    dimension: p.dimension, strength: p.strength, annotator: p.annotator.name,
                    chosenSafe: p.chosenSafe, rejectedSafe: p.rejectedSafe, tags: t.data.tags, promptId: t.data.promptID))
                summary.pairs += 1
                summary.perDimension[p.dimension, default: 0] += 1
                summary.tied += p.agreesWithOracle == nil ? 1 : 0
                summary.disagreeing += p.agreesWithOracle == false ? 1 : 0
                summary.wrongSafetyLabels += p.safetyLabelsTrue ? 0 : 1
            }
        }
        return (records, summary)
    }

    /// One JSON object per line, keys sorted (the generator's comparisons.jsonl encoding).
    static func jsonLines(_ records: [ComparisonRecord]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        for record in records {
            out.append(try encoder.encode(record))
            out.append(0x0A)
        }
        return out
    }
}
