// Each month's chosen policy (its `select` stage) in the main job's results: the annotators' figures
// for every candidate, the reason, and the chosen policy's oracle figures month over month (Llama 2's
// Figure 11 on the task), found through the evaluation stage of the policy the choice names.
import Foundation
import ArgumentParser
import PlumbEval
import PlumbOracle
import PlumbStages

/// One month's `select` stage.
struct MonthChoice: Codable {
    /// "m1", "m2", ... (the month's place in the run).
    var month: String
    var selection: PolicySelection
    /// "RUN/STAGE" of the policy's own training stage, a previous month's choice followed back.
    var policy: String

    /// "RUN/eval-STAGE": the oracle evaluation stage of the chosen policy, as PolicyResult.stage names it.
    var evaluationStage: String? {
        let parts = policy.split(separator: "/")
        return parts.count == 2 ? "\(parts[0])/eval-\(parts[1])" : nil
    }
}

extension MainJobResults {
    /// The months' `select` stages, in order; a choice of the previous month's policy names that policy.
    static func choices(months: [URL]) throws -> [MonthChoice] {
        var out: [MonthChoice] = []
        for (index, run) in months.enumerated() {
            let file = run.appendingPathComponent("select").appendingPathComponent(PolicySelection.file)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let selection: PolicySelection
            do { selection = try JSONDecoder().decode(PolicySelection.self, from: Data(contentsOf: file)) } catch {
                throw ValidationError("\(file.path): cannot read the month's selection: \(error)")
            }
            // The reference of month N is month N-1's `select` stage: name the policy it chose.
            let keptPrevious = selection.chosen.hasSuffix("/" + StageKind.policySelect.name)
            let policy = keptPrevious ? out.last?.policy ?? selection.chosen : selection.chosen
            out.append(MonthChoice(month: "m\(index + 1)", selection: selection, policy: policy))
        }
        return out
    }

    /// The lines of the choices, then the chosen policies' oracle figures month over month.
    func choiceLines(rate: (RateEstimate) -> String) -> [String] {
        guard !choices.isEmpty else { return [] }
        var lines = ["", "Each month's policy, chosen by the annotators: win rate over the reference's answers on the validation prompts "
                     + "(no stage trains on them), safety first"]
        for choice in choices {
            let s = choice.selection
            lines.append("\(choice.month): \(s.chosen)\(choice.policy == s.chosen ? "" : " (= \(choice.policy))"): \(s.reason)")
            for c in s.candidates {
                lines.append("    " + pad(c.name, 22) + String(format: "win rate %.3f [%.3f, %.3f]  safety %.3f  helpfulness %.3f  changed %.3f%@",
                                                          c.winRate, c.low, c.high, c.safetyWinRate, c.helpfulnessWinRate, c.changedShare,
                                                          c.eligible ? "" : "  (not eligible)"))
            }
        }
        lines += ["", "The chosen policies month over month (oracle, held-out prompts)",
                  pad("month", 8) + pad("policy", 22) + pad("helpful", 22) + pad("violations", 22) + pad("false refusals", 22)]
        for choice in choices {
            guard let stage = choice.evaluationStage, let p = policies.first(where: { $0.stage == stage }) else {
                lines.append(pad(choice.month, 8) + pad(choice.policy, 22) + "(no evaluation stage)")
                continue
            }
            lines.append(pad(choice.month, 8) + pad(choice.policy, 22) + pad(rate(p.report.helpfulness), 22) + pad(rate(p.report.violation), 22)
                         + pad(rate(p.report.falseRefusal), 22))
        }
        return lines
    }
}
