// Every input of a pipeline stage back to the task it started from, across months, as a tree with
// each stage's kind and output checksum (from the runner's `pipeline-stage.json` records): `plumb
// runs lineage`. A stage reached twice is expanded once.
import Foundation

public enum PipelineLineage {
    /// The tree under `top`, one line per stage read; paths relative to `top`'s run directory.
    public static func lines(_ top: URL, fullChecksums: Bool = false) throws -> [String] {
        let base = PipelineRunChain(run: top.deletingLastPathComponent(), earlier: [])
        var lines: [String] = [], expanded = Set<String>()
        func visit(_ dir: URL, label: String, indent: String, childIndent: String) throws {
            let name = base.relative(dir)
            guard let record = try PipelineStageRecord.read(dir) else {
                lines.append(indent + label + name + "  (no pipeline-stage.json: not complete, or not made by `plumb pipeline run`)")
                return
            }
            let checksum = fullChecksums ? record.output : String(record.output.prefix(12))
            let seen = !expanded.insert(dir.path).inserted
            lines.append(indent + label + "\(name) [\(record.kind)] \(checksum)" + (seen ? " (above)" : ""))
            if seen { return }
            let children = record.inputs.sorted { $0.key < $1.key }.flatMap { option, inputs in inputs.map { (option, $0) } }
            for (index, (option, input)) in children.enumerated() {
                let last = index == children.count - 1
                let child = URL(fileURLWithPath: input.stage, relativeTo: dir.deletingLastPathComponent()).standardizedFileURL
                try visit(child, label: "\(option): ", indent: childIndent + (last ? "└─ " : "├─ "), childIndent: childIndent + (last ? "   " : "│  "))
            }
        }
        try visit(top, label: "", indent: "", childIndent: "")
        return lines
    }
}
