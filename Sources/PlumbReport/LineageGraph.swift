// A run's lineage as an SVG graph: one box per stage, in columns by depth (the longest chain of
// stages feeding it), an edge from each stage whose outputs another read (`producedBy` of its
// inputs). Stages of other runs (a month reading the month before) appear as boxes of their own.
import Foundation
import PlumbStore

enum LineageGraph {
    struct Node {
        var id: String
        var label: String
        var detail: String
        var state: StageState?
    }

    static let boxWidth = 172.0, boxHeight = 30.0, columnGap = 46.0, rowGap = 10.0, margin = 12.0

    /// Nodes (stages, then stages of other runs) and edges (producer id, consumer id).
    static func graph(_ run: ReportRun) -> (nodes: [Node], edges: [(String, String)]) {
        var nodes = run.stages.map { Node(id: $0.name, label: $0.name, detail: $0.manifest?.kind ?? "?", state: $0.summary.state) }
        var edges: [(String, String)] = []
        for stage in run.stages {
            let runName = stage.manifest?.run ?? run.name
            for producer in stage.summary.upstream {
                let parts = producer.split(separator: "/", maxSplits: 1).map(String.init)
                let id = parts.count == 2 && parts[0] == runName ? parts[1] : producer
                if !nodes.contains(where: { $0.id == id }) { nodes.append(Node(id: id, label: producer, detail: "another run", state: nil)) }
                edges.append((id, stage.name))
            }
        }
        return (nodes, edges)
    }

    static func svg(_ run: ReportRun) -> String {
        let (nodes, edges) = graph(run)
        guard !nodes.isEmpty else { return "" }
        let parents = Dictionary(grouping: edges, by: \.1).mapValues { $0.map(\.0) }
        var depth: [String: Int] = [:]
        func depthOf(_ id: String, _ visiting: Set<String>) -> Int {
            if let d = depth[id] { return d }
            let d = (parents[id] ?? []).filter { !visiting.contains($0) }.map { depthOf($0, visiting.union([id])) + 1 }.max() ?? 0
            depth[id] = d
            return d
        }
        nodes.forEach { _ = depthOf($0.id, []) }
        // Columns, each ordered by the mean row of its parents (fewer crossings), then by name.
        var row: [String: Double] = [:]
        var columns: [[Node]] = []
        for d in 0...(depth.values.max() ?? 0) {
            let column = nodes.filter { depth[$0.id] == d }.map { node -> (Node, Double) in
                let rows = (parents[node.id] ?? []).compactMap { row[$0] }
                return (node, rows.isEmpty ? -1 : rows.reduce(0, +) / Double(rows.count))
            }.sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }.map(\.0)
            for (index, node) in column.enumerated() { row[node.id] = Double(index) }
            columns.append(column)
        }
        let tallest = columns.map(\.count).max() ?? 1
        let width = margin * 2 + Double(columns.count) * boxWidth + Double(columns.count - 1) * columnGap
        let height = margin * 2 + Double(tallest) * (boxHeight + rowGap)
        var position: [String: (x: Double, y: Double)] = [:]
        for (c, column) in columns.enumerated() {
            for node in column {
                position[node.id] = (margin + Double(c) * (boxWidth + columnGap), margin + row[node.id]! * (boxHeight + rowGap))
            }
        }
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lineage\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\">",
                   "<title>Lineage of \(Markup.escape(run.name))</title>"]
        for (from, to) in edges {
            guard let a = position[from], let b = position[to] else { continue }
            let (x1, y1, x2, y2) = (a.x + boxWidth, a.y + boxHeight / 2, b.x, b.y + boxHeight / 2)
            let mid = (x1 + x2) / 2
            out.append("<path d=\"M\(Markup.coordinate(x1)) \(Markup.coordinate(y1))C\(Markup.coordinate(mid)) \(Markup.coordinate(y1)) \(Markup.coordinate(mid)) \(Markup.coordinate(y2)) \(Markup.coordinate(x2 - 3)) \(Markup.coordinate(y2))\" fill=\"none\" stroke=\"#8a9bb0\" stroke-width=\"1\"/>")
            out.append("<circle cx=\"\(Markup.coordinate(x2 - 3))\" cy=\"\(Markup.coordinate(y2))\" r=\"2.5\" fill=\"#5a6b80\"/>")
        }
        for node in nodes {
            guard let p = position[node.id] else { continue }
            out.append("<g><title>\(Markup.escape(node.label)): \(Markup.escape(node.detail))</title>")
            out.append("<rect x=\"\(Markup.coordinate(p.x))\" y=\"\(Markup.coordinate(p.y))\" width=\"\(boxWidth)\" height=\"\(boxHeight)\" rx=\"4\" fill=\"\(colours(node.state).fill)\" stroke=\"\(colours(node.state).stroke)\"/>")
            out.append("<text x=\"\(Markup.coordinate(p.x + 6))\" y=\"\(Markup.coordinate(p.y + 13))\" font-size=\"11\" font-weight=\"bold\">\(Markup.escape(clipped(node.label)))</text>")
            out.append("<text x=\"\(Markup.coordinate(p.x + 6))\" y=\"\(Markup.coordinate(p.y + 25))\" font-size=\"9.5\" fill=\"#555\">\(Markup.escape(node.detail + (node.state.map { $0 == .complete ? "" : ", \($0.rawValue)" } ?? "")))</text></g>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    private static func clipped(_ text: String) -> String { text.count > 26 ? String(text.prefix(25)) + "…" : text }

    /// Fill and outline of a stage's box by its state (another run's stage: grey).
    private static func colours(_ state: StageState?) -> (fill: String, stroke: String) {
        switch state {
        case .complete?: return ("#eef6ee", "#5d9c5d")
        case .failed?, .unreadable?: return ("#fbeaea", "#c0392b")
        case .running?, .interrupted?: return ("#fdf3e2", "#d68910")
        case nil: return ("#f0f0f0", "#999")
        }
    }
}
