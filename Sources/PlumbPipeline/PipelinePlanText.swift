// A session's plan as `plumb pipeline plan` prints it: one line per stage with its kind, its status
// (complete, stale and why, or to run) and the references it reads, then the counts; and the
// `--set NAME=VALUE` values a session is opened with.
import Foundation
import PlumbStore

extension PipelineSession {
    public func planText() throws -> String {
        let plan = try runner.plan()
        let width = max(12, (plan.map(\.stage.name.count).max() ?? 0) + 2)
        let kindWidth = max(10, (plan.map(\.stage.kind.name.count).max() ?? 0) + 2)
        var lines = ["pipeline \(graph.file.name) (\(graph.file.path)) in \(runner.run.path)"]
        for (stage, status) in plan {
            let reads = stage.inputs.flatMap { $0.refs.map(\.ref.text) }
            lines.append(pad(stage.name, width) + pad(stage.kind.name, kindWidth) + pad(status.text, 24)
                         + (reads.isEmpty ? "" : "<- " + reads.joined(separator: ", ")))
        }
        let toRun = plan.filter { !$0.status.isComplete }.count
        lines.append("\(plan.count - toRun) complete, \(toRun) to run")
        return lines.joined(separator: "\n")
    }

    /// NAME=VALUE items as ${NAME} values (a later item replaces an earlier one of the same name).
    public static func overrides(_ items: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { throw PipelineError("--set \(item): expected NAME=VALUE") }
            out[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        return out
    }
}
