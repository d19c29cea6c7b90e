// The report as one XHTML page: inline SVG charts and tables, its style sheet inline, no script and
// nothing fetched. Sections: policies across runs (with several), then per run the policies, best-of-k,
// reward models, training curves per stage, every stage's final figures, and the lineage.
import Foundation
import PlumbFiles
import PlumbStore

public struct ReportPage {
    var runs: [ReportRun]
    var generatedAt = Date()
    private var body: [String] = []

    public init(runs: [ReportRun], generatedAt: Date = Date()) {
        self.runs = runs
        self.generatedAt = generatedAt
    }

    static let style = """
    body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1400px; }
    h1 { font-size: 22px; } h2 { font-size: 19px; border-bottom: 2px solid #ccc; margin-top: 36px; }
    h3 { font-size: 15px; margin-top: 22px; } h4 { font-size: 13px; color: #444; }
    .charts { display: flex; flex-wrap: wrap; gap: 14px; }
    .chart { background: #fff; border: 1px solid #ddd; }
    table { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
    th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
    th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
    .note { color: #666; font-size: 12px; } code { font-size: 12px; }
    details { margin: 4px 0; font-size: 13px; }
    .lineage-box { overflow-x: auto; border: 1px solid #ddd; padding: 4px; }
    """

    public func html() -> String {
        var page = self
        page.build()
        let title = "Plumbline report: " + runs.map(\.name).joined(separator: ", ")
        return (["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<!DOCTYPE html>", "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">",
                 "<head><meta charset=\"utf-8\"/><title>\(Markup.escape(title))</title><style>\(Self.style)</style></head>", "<body>",
                 "<h1>\(Markup.escape(title))</h1>"] + page.body + ["</body>", "</html>", ""]).joined(separator: "\n")
    }

    private mutating func build() {
        let formatter = ISO8601DateFormatter()
        add("<p class=\"note\">Written \(formatter.string(from: generatedAt)) from \(runs.map { "<code>\(Markup.escape($0.directory.path))</code>" }.joined(separator: ", ")).</p>")
        if runs.count > 1 {
            add("<h2 id=\"across-runs\">Policies across runs</h2>",
                "<p class=\"note\">Oracle rates of each policy on its run's held-out prompts, with 95% Wilson intervals.</p>")
            charts(ResultCharts.chosenAcrossRuns(runs) + ResultCharts.policiesAcrossRuns(runs) + ResultCharts.policies(runs))
        }
        for run in runs { section(run) }
    }

    private mutating func section(_ run: ReportRun) {
        add("<h2 id=\"run-\(Markup.escape(run.name))\">Run \(Markup.escape(run.name))</h2>")
        let states = Dictionary(grouping: run.stages, by: { $0.summary.state.rawValue }).map { "\($0.value.count) \($0.key)" }.sorted()
        add("<p>\(run.stages.count) stages: \(Markup.escape(states.joined(separator: ", "))).</p>")
        if let problem = run.resultsProblem { add("<p class=\"note\">results.json could not be read: \(Markup.escape(problem))</p>") }
        if let results = run.results {
            if !results.policies.isEmpty {
                add("<h3>Policies judged by the oracle</h3>",
                    "<p class=\"note\">Greedy responses to held-out prompts; 95% Wilson intervals.</p>")
                charts(ResultCharts.policies([run]))
                policyTable(results)
            }
            if !results.bestOfK.isEmpty {
                add("<h3>Best-of-k</h3>", "<p class=\"note\">Each prompt's first k samples, one picked by each selector and judged by the oracle; k on a log scale.</p>")
                charts(ResultCharts.bestOfK(results))
            }
        }
        if let chart = ResultCharts.rewardAccuracy(run) {
            add("<h3>Reward models</h3>")
            charts([chart])
        }
        let trained = run.stages.filter { $0.curves != nil }
        if !trained.isEmpty { add("<h3>Training curves</h3>") }
        for stage in trained { trainingCurves(stage) }
        add("<h3>Stage figures</h3>", "<p class=\"note\">Each stage's manifest metrics (the figures it reported when it ended).</p>")
        for stage in run.stages { stageFigures(stage) }
        add("<h3>Lineage</h3>", "<p class=\"note\">Each stage and the stages whose outputs it read (columns by depth); the table lists every input with the first 12 hex digits of its SHA-256.</p>",
            "<div class=\"lineage-box\">", LineageGraph.svg(run), "</div>")
        lineageTable(run)
    }

    private mutating func trainingCurves(_ stage: ReportStage) {
        let m = stage.manifest
        let steps = stage.curves?.train["loss"]?.last.map { ", \(Int($0.x)) steps" } ?? ""
        add("<h4>\(Markup.escape(stage.name)) (\(Markup.escape(m?.kind ?? "?")), \(stage.summary.state.rawValue)\(steps))</h4>")
        let (charts, constants) = TrainingCharts.charts(stage.curves!)
        self.charts(charts)
        if !constants.isEmpty {
            add("<p class=\"note\">Constant: \(Markup.escape(constants.map { "\($0.name) = \(Markup.figure($0.value))" }.joined(separator: ", ")))</p>")
        }
    }

    private mutating func stageFigures(_ stage: ReportStage) {
        let metrics = stage.manifest?.metrics ?? [:]
        add("<details><summary>\(Markup.escape(stage.name)): \(Markup.escape(stage.manifest?.kind ?? "?")), \(stage.summary.state.rawValue), \(metrics.count) figures</summary>")
        if let problem = stage.manifest?.error ?? stage.summary.problem { add("<p class=\"note\">\(Markup.escape(problem))</p>") }
        table(["figure", "value"], metrics.sorted { $0.key < $1.key }.map { [Markup.escape($0.key), Markup.figure($0.value)] }, numeric: [1])
        add("</details>")
    }

    private mutating func policyTable(_ results: MainJobFigures) {
        let keys = ResultCharts.rateTitles
        let rows = results.policies.map { p in
            [Markup.escape(p.name), Markup.escape(p.stage)] + keys.map { key in
                p.rates[key.key].map { String(format: "%.3f [%.3f, %.3f]", $0.rate, $0.low, $0.high) } ?? "-"
            }
        }
        table(["policy", "stage"] + keys.map { Markup.escape($0.title) }, rows, numeric: Set(2..<(2 + keys.count)))
    }

    private mutating func lineageTable(_ run: ReportRun) {
        let rows = run.stages.map { stage -> [String] in
            [Markup.escape(stage.name), Markup.escape(stage.manifest?.kind ?? "?"), stage.summary.state.rawValue,
             "<code>" + String((stage.manifest?.cacheKey ?? "").prefix(12)) + "</code>",
             Self.inputGroups(stage.manifest?.inputs ?? []).joined(separator: "<br/>")]
        }
        table(["stage", "kind", "status", "cache key", "inputs (producing stage, file, SHA-256)"], rows)
    }

    /// One line per input file, except that the files of one shard set (`NAME-00000-of-00016...`)
    /// share a line: `NAME-*-of-00016.jsonl.zst (16 files)` and each file's short checksum.
    static func inputGroups(_ inputs: [StageInput]) -> [String] {
        var lines: [(key: String, label: String, sums: [String])] = []
        for input in inputs {
            let url = URL(fileURLWithPath: input.path)
            let from = input.producedBy.map { "<b>\(Markup.escape($0))</b> " } ?? ""
            let sum = "<code>" + String(input.sha256.prefix(12)) + "</code>"
            if let shard = ShardNaming.parse(url.lastPathComponent), shard.count > 1 {
                let key = (input.producedBy ?? url.deletingLastPathComponent().path) + "/" + shard.name + "/\(shard.count)"
                if let i = lines.firstIndex(where: { $0.key == key }) { lines[i].sums.append(sum); continue }
                let label = from + Markup.escape("\(shard.name)-*-of-\(String(format: "%05d", shard.count))\(ShardNaming.suffix)")
                lines.append((key, label, [sum]))
            } else {
                let file = input.producedBy == nil ? url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent : url.lastPathComponent
                lines.append((UUID().uuidString, from + Markup.escape(file), [sum]))
            }
        }
        return lines.map { $0.sums.count > 1 ? "\($0.label) (\($0.sums.count) files) " + $0.sums.joined(separator: " ") : "\($0.label) \($0.sums[0])" }
    }

    /// A table of cells already escaped (they may hold markup).
    private mutating func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) {
        var lines = ["<table>", "<tr>" + headers.map { "<th>\($0)</th>" }.joined() + "</tr>"]
        for row in rows {
            lines.append("<tr>" + row.enumerated().map { numeric.contains($0.offset) ? "<td class=\"num\">\($0.element)</td>" : "<td>\($0.element)</td>" }.joined() + "</tr>")
        }
        add(lines + ["</table>"])
    }

    private mutating func charts(_ charts: [LineChart]) {
        guard !charts.isEmpty else { return }
        add(["<div class=\"charts\">"] + charts.map { $0.svg() } + ["</div>"])
    }

    private mutating func add(_ lines: String...) { body += lines }
    private mutating func add(_ lines: [String]) { body += lines }
}

extension ReportPage {
    /// Reads the runs, writes the page atomically, returns its path.
    @discardableResult
    public static func write(_ paths: [String], out: String?) throws -> URL {
        guard let first = paths.first else { throw ReportError("name at least one run directory") }
        let runs = try ReportRun.locate(paths).map(ReportRun.read)
        let firstURL = URL(fileURLWithPath: first).standardizedFileURL
        let file = out.map { URL(fileURLWithPath: $0) }
            ?? (paths.count == 1 ? firstURL : firstURL.deletingLastPathComponent()).appendingPathComponent("report.html")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(Data(ReportPage(runs: runs).html().utf8), to: file)
        return file
    }
}
