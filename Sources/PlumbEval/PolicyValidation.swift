// The validation figure of an RL stage's live policy on the built-in task: on held-out prompts, the
// task's simulated annotators (TaskAnnotator: the labelling team, with its flip rates, length bias
// and safety-label noise) compare the live policy's answer with the reference policy's, one pair per
// prompt, as they compare the month's on-policy samples. The figure is the share of pairs the
// annotators give the live policy (identical answers count 1/2), with a 95% Wilson interval; the
// same per dimension (safety / helpfulness prompts by their tags) and the share of changed answers. The
// oracle's own scores never leave the annotators: this is the human signal a team would have.
import Foundation
import PlumbData
import PlumbModel
import PlumbOracle
import PlumbStages
import PlumbTask

public enum PolicyValidation {
    public static let figure = PolicyValidationSchedule.figure

    /// A judge of live policies against the reference's answers to the first `limit` prompts of
    /// `prompts`, by the annotators of the task (or month) directory `task`.
    public static func validator(prompts: URL, task: URL, templated: TemplatedTokenizer, settings: SamplingSettings, seed: UInt64,
                                 reference: LlamaModel, limit: Int) throws -> PPOStage.PolicyJudge {
        let manifestFile = task.appendingPathComponent(TaskFiles.manifest)
        let manifest: TaskManifest
        do { manifest = try JSONDecoder().decode(TaskManifest.self, from: Data(contentsOf: manifestFile)) } catch {
            throw StageError("\(manifestFile.path): cannot read the task's manifest for its annotators: \(error)")
        }
        let annotator = TaskAnnotator(settings: manifest.settings.annotation, seed: seed)
        let records = Array(try ResponseFile.loadPrompts(prompts).prefix(limit))
        let baseline = try PolicyOracle.answer(policy: reference, templated: templated, records: records, settings: settings, seed: seed)
        return { _, model in
            let live = try PolicyOracle.answer(policy: model, templated: templated, records: records, settings: settings, seed: seed)
            var wins: [String: Double] = [:], totals: [String: Int] = [:], changed = 0
            for (mine, theirs) in zip(live, baseline) {
                let a = mine.response ?? "", b = theirs.response ?? ""
                var win = 0.5
                if a != b {
                    changed += 1
                    let pair = try annotator.compare(prompt: mine.prompt ?? "", responses: [a, b], key: mine.id, pairs: 1)
                    win = pair.first?.chosen == 0 ? 1 : 0
                }
                for part in ["", mine.tags.contains("safety") ? "_safety" : "_helpfulness"] {
                    wins[part, default: 0] += win; totals[part, default: 0] += 1
                }
            }
            return figures(wins: wins, totals: totals, changed: changed)
        }
    }

    /// The win rate with its interval, over all prompts and per dimension (`_safety`, `_helpfulness`
    /// prompts by their tags), and the share of answers that differ from the reference's.
    static func figures(wins: [String: Double], totals: [String: Int], changed: Int) -> [String: Double] {
        var out: [String: Double] = [:]
        for (part, total) in totals {
            let rate = RateEstimate(count: wins[part] ?? 0, total: total)
            out[figure + part] = rate.rate
            out[figure + part + "_low"] = rate.low
            out[figure + part + "_high"] = rate.high
        }
        out["validation/changed_share"] = Double(changed) / Double(max(totals[""] ?? 0, 1))
        return out
    }
}
