// Each month's chosen policy (its `select` stage) in the main job's results: the annotators' figures
// for every candidate, the reason, and the chosen policy's oracle figures month over month (Llama 2's
// Figure 11 on the task), found through the evaluation stage of the policy the choice names.
import Foundation
import PlumbStages

/// One month's `select` stage.
public struct MonthChoice: Codable {
    /// "m1", "m2", ... (the month's place in the run).
    public var month: String
    public var selection: PolicySelection
    /// "RUN/STAGE" of the policy's own training stage, a previous month's choice followed back.
    public var policy: String

    /// "RUN/eval-STAGE": the oracle evaluation stage of the chosen policy, as PolicyResult.stage names it.
    public var evaluationStage: String? {
        let parts = policy.split(separator: "/")
        return parts.count == 2 ? "\(parts[0])/eval-\(parts[1])" : nil
    }
}

extension MainJobResults {
    /// The months' `select` stages, in order; a choice of the previous month's policy names that policy.
    public static func choices(months: [URL]) throws -> [MonthChoice] {
        var out: [MonthChoice] = []
        for (index, run) in months.enumerated() {
            let file = run.appendingPathComponent("select").appendingPathComponent(PolicySelection.file)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let selection: PolicySelection
            do { selection = try JSONDecoder().decode(PolicySelection.self, from: Data(contentsOf: file)) } catch {
                throw StageError("\(file.path): cannot read the month's selection: \(error)")
            }
            // The reference of month N is month N-1's `select` stage: name the policy it chose.
            let keptPrevious = selection.chosen.hasSuffix("/" + StageKind.policySelect.name)
            let policy = keptPrevious ? out.last?.policy ?? selection.chosen : selection.chosen
            out.append(MonthChoice(month: "m\(index + 1)", selection: selection, policy: policy))
        }
        return out
    }
}
