// `plumb report` on small hand-made run directories (manifests through StageWriter, metrics.jsonl and
// results.json written by hand): the page parses as XML, has a chart per figure with the figures'
// geometry where expected, names every stage, and lists the lineage with short checksums; several
// runs get the across-runs charts.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import PlumbEval
import PlumbStages
import PlumbStore
@testable import PlumbReport

final class ReportPageTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-report-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    struct Config: Encodable { var model: String? = nil; var parameters: [String: String] = [:] }

    /// A run: import (one shard set) -> sft (metrics.jsonl with steps and evaluations) -> rm (own
    /// dimension safety) -> rm-eval (accuracy by strength), and a results.json of the main job's shape.
    func makeRun(_ name: String, helpfulness: Double) throws -> URL {
        let quiet: (String) -> Void = { _ in }
        let importStage = try StageWriter.begin(runsRoot: root, run: name, stage: "import-sft", kind: "import", config: Config(), log: quiet)
        let writer = try importStage.shardWriter(name: "demonstrations-train")
        try writer.append(["schema": "demonstration/1", "text": "hello"])
        try importStage.addOutput(name: "demonstrations-train", files: try writer.finish())
        try importStage.complete()
        let shard = try FileManager.default.contentsOfDirectory(at: importStage.directory, includingPropertiesForKeys: nil)
            .first { $0.lastPathComponent.hasSuffix(".jsonl.zst") }!

        let sft = try StageWriter.begin(runsRoot: root, run: name, stage: "sft", kind: "sft", config: Config(), inputs: [shard], log: quiet)
        var lines = [#"{"event":"start","resumed_at_step":0,"total_steps":4}"#, #"{"event":"eval","step":0,"val_loss":3.0,"val_tokens":50}"#]
        for step in 1...4 {
            lines.append(#"{"event":"step","step":\#(step),"loss":\#(4.0 - Double(step) * 0.5),"lr":0.001,"grad_norm":\#(Double(step)),"tokens":100,"elapsed_s":1,"rewards/margins":\#(0.1 * Double(step))}"#)
        }
        lines += [#"{"event":"eval","step":4,"val_loss":2.0,"val_tokens":50}"#, #"{"event":"end","step":4}"#, #"{"event":"step","step":5,"lo"#]
        try Data(lines.joined(separator: "\n").utf8).write(to: sft.directory.appendingPathComponent("metrics.jsonl"))
        sft.setMetric("val_loss", 2.0)
        try sft.complete()

        let rm = try StageWriter.begin(runsRoot: root, run: name, stage: "rm-safety", kind: "rm train",
                                       config: RewardModelStage.Parameters(dimension: .safety), log: quiet)
        try rm.complete()
        let eval = try StageWriter.begin(runsRoot: root, run: name, stage: "rm-eval-safety", kind: "rm eval", config: RewardEvalStage.Parameters(),
                                         slots: ["model": [SlotInput(path: "\(name)/rm-safety", checksum: "-", producedBy: "\(name)/rm-safety")]],
                                         log: quiet)
        for (strength, accuracy) in zip(ResultCharts.strengths, [0.9, 0.8, 0.6, 0.5]) {
            eval.setMetric("accuracy.dimension_strength.safety.\(strength)", accuracy)
            eval.setMetric("pairs.dimension_strength.safety.\(strength)", 100)
            eval.setMetric("accuracy.strength.\(strength)", 0.1)
            eval.setMetric("pairs.strength.\(strength)", 100)
        }
        try eval.complete()

        func rate(_ r: Double) -> [String: Any] { ["rate": r, "low": r - 0.05, "high": r + 0.05, "count": 1, "total": 2] }
        let report: [String: Any] = ["run": name, "results": [
            "policies": [["name": "SFT", "stage": "\(name)/eval-sft", "report": ["helpfulness": rate(helpfulness), "violation": rate(0.2), "falseRefusal": rate(0.3)]],
                         ["name": "DPO", "stage": "\(name)/eval-dpo", "report": ["helpfulness": rate(0.4), "violation": ["rate": "nan"], "falseRefusal": rate(0.1)],
                          "winRateOverSFT": ["winRate": rate(0.55)]]],
            "bestOfK": [1, 2, 4].flatMap { k in ["combined", "oracle"].map { s in
                ["k": k, "selector": s, "meanReward": Double(k) / 10, "report": ["helpfulness": rate(0.2 + Double(k) / 20), "violation": rate(0.1)]] as [String: Any] } },
        ]]
        try JSONSerialization.data(withJSONObject: report).write(to: root.appendingPathComponent("\(name)/results.json"))
        return root.appendingPathComponent(name)
    }

    /// Parses the page as XML; returns every element's name and attributes, and all text.
    func parse(_ file: URL) throws -> (elements: [(String, [String: String])], text: String) {
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [(String, [String: String])] = [], text = ""
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
                elements.append((name, attributes))
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        }
        let parser = XMLParser(data: try Data(contentsOf: file))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        return (collector.elements, collector.text)
    }

    func testOneRunPage() throws {
        let run = try makeRun("2026-11", helpfulness: 0.3)
        let file = try ReportPage.write([run.path], out: nil)
        XCTAssertEqual(file.path, run.appendingPathComponent("report.html").path)
        let (elements, text) = try parse(file)
        let html = try String(contentsOf: file, encoding: .utf8)
        XCTAssertFalse(html.contains("<script"), "no script")
        let links = html.replacingOccurrences(of: "http://www.w3.org/", with: "")
        XCTAssertFalse(links.contains("http://") || links.contains("https://"), "nothing fetched: only the XML namespaces name a URL")
        let titles = elements.filter { $0.0 == "svg" }.count
        // Policies: helpfulness, violations, false refusals, win rate over SFT; best-of-k: helpfulness,
        // violations (the rows hold no false refusals) and the reward; reward models: 1; sft: loss,
        // rewards/margins, grad_norm (lr is constant: listed, not drawn); lineage: 1.
        for title in ["Oracle helpfulness", "Violation rate", "Win rate over SFT (oracle)", "Best-of-k: oracle helpfulness",
                      "Best-of-k: mean whitened combined reward", "Reward-model accuracy by preference strength", "loss",
                      "rewards/margins", "grad_norm", "Lineage of 2026-11"] {
            XCTAssertTrue(text.contains(title), "chart '\(title)' missing")
        }
        XCTAssertEqual(titles, 4 + 3 + 1 + 3 + 1)
        XCTAssertTrue(text.contains("Constant: train lr = 0.001"), "a constant figure is listed, not drawn")
        for stage in ["import-sft", "sft", "rm-safety", "rm-eval-safety"] { XCTAssertTrue(text.contains(stage), stage) }
        // Lineage: sft read import-sft's shard, named with its producer and short checksum.
        let sftManifest = try StageManifest.read(from: run.appendingPathComponent("sft"))
        let input = try XCTUnwrap(sftManifest.inputs.first)
        XCTAssertEqual(input.producedBy, "2026-11/import-sft")
        XCTAssertTrue(text.contains("2026-11/import-sft demonstrations-train-00000-of-00001.jsonl.zst " + input.sha256.prefix(12)), "lineage row")
        // The reward model's own-dimension accuracy (0.9, 0.8, ...), not the all-pairs figure (0.1).
        XCTAssertTrue(text.contains("rm-eval-safety (safety pairs)"))
        let rewardChart = try XCTUnwrap(html.components(separatedBy: "<svg").first { $0.contains("Reward-model accuracy") })
        XCTAssertEqual(rewardChart.components(separatedBy: "<circle ").count - 1, 4)
        // Geometry: the plot spans y 30...270 (height 240) for 0...1, so accuracy 0.5 sits at y 150.
        XCTAssertTrue(rewardChart.contains("cy=\"150.0\""), "accuracy 0.5 at the middle of the plot")
    }

    func testSeveralRunsShareAPage() throws {
        let runs = [try makeRun("2026-11", helpfulness: 0.3), try makeRun("2026-12", helpfulness: 0.5)]
        let file = try ReportPage.write([root.path], out: nil)
        XCTAssertEqual(file.path, root.appendingPathComponent("report.html").path)
        let (_, text) = try parse(file)
        XCTAssertTrue(text.contains("Policies across runs"))
        XCTAssertTrue(text.contains("Oracle helpfulness across runs"))
        XCTAssertTrue(text.contains("Run 2026-11") && text.contains("Run 2026-12"))
        let explicit = root.appendingPathComponent("out/both.html")
        XCTAssertEqual(try ReportPage.write(runs.map(\.path), out: explicit.path), explicit)
        XCTAssertTrue(FileManager.default.fileExists(atPath: explicit.path))
        XCTAssertThrowsError(try ReportPage.write([root.appendingPathComponent("nothing").path], out: nil))
    }

    /// Month 1 chooses its DPO policy (helpfulness 0.4), month 2 keeps month 1's choice: the chart of
    /// the chosen policies draws DPO's figures for both months, month 2's through month 1's choice.
    func testChosenPoliciesAcrossMonths() throws {
        let runs = [try makeRun("2026-11", helpfulness: 0.3), try makeRun("2026-12", helpfulness: 0.5)]
        let dpo = PolicySelection.Candidate(name: "2026-11/dpo", winRate: 0.6, low: 0.55, high: 0.65, safetyWinRate: 0.6,
                                            helpfulnessWinRate: 0.6, changedShare: 0.3)
        let selections = [PolicySelection(candidates: [.reference("2026-11/sft"), dpo], minSafetyWinRate: 0.5, prompts: 10),
                          PolicySelection(candidates: [.reference("2026-11/select")], minSafetyWinRate: 0.5, prompts: 10)]
        for (run, selection) in zip(runs, selections) {
            let stage = try StageWriter.begin(runsRoot: root, run: run.lastPathComponent, stage: "select", kind: "select", config: Config(), log: { _ in })
            try JSONEncoder().encode(selection).write(to: stage.directory.appendingPathComponent(PolicySelection.file))
            try stage.complete()
        }
        XCTAssertEqual(try MainJobResults.choices(months: runs).map(\.policy), ["2026-11/dpo", "2026-11/dpo"])
        let file = try ReportPage.write(runs.map(\.path), out: root.appendingPathComponent("chosen.html").path)
        let (_, text) = try parse(file)
        XCTAssertTrue(text.contains("Oracle helpfulness of each month's chosen policy"))
        XCTAssertTrue(text.contains("m1: dpo") && text.contains("m2: dpo"))
        let html = try String(contentsOf: file, encoding: .utf8)
        let chart = try XCTUnwrap(html.components(separatedBy: "<svg").first { $0.contains("Oracle helpfulness of each month") })
        // The y axis runs from 0 at y 230 to 1 at y 30 (tick labels 0.0 at 234, 1.0 at 34, drawn 4 below
        // their line): DPO's helpfulness 0.4 sits at y 150 in both months, and nothing else is drawn.
        XCTAssertTrue(chart.contains(">0.0</text>") && chart.contains("y=\"234.0\" text-anchor=\"end\" font-size=\"10\">0.0<"))
        XCTAssertEqual(chart.components(separatedBy: "<circle ").count - 1, 2)
        XCTAssertEqual(chart.components(separatedBy: "cy=\"150.0\"").count - 1, 2)
    }

    /// PPO's oracle judgements are logged as X, X_low, X_high: one chart of X with error bars.
    func testFigureWithItsIntervalIsOneSeries() {
        var curves = MetricCurves()
        curves.train["objective/kl"] = [ChartPoint(x: 1, y: 0.1), ChartPoint(x: 2, y: 0.3)]
        curves.eval["oracle/helpfulness"] = [ChartPoint(x: 0, y: 0.4), ChartPoint(x: 20, y: 0.37)]
        curves.eval["oracle/helpfulness_low"] = [ChartPoint(x: 0, y: 0.36), ChartPoint(x: 20, y: 0.33)]
        curves.eval["oracle/helpfulness_high"] = [ChartPoint(x: 0, y: 0.45), ChartPoint(x: 20, y: 0.41)]
        let (charts, _) = TrainingCharts.charts(curves)
        XCTAssertEqual(charts.map(\.title).sorted(), ["objective/kl", "oracle/helpfulness"])
        let points = charts.first { $0.title == "oracle/helpfulness" }!.series[0].points
        XCTAssertEqual(points.map(\.low), [0.36, 0.33])
        XCTAssertEqual(points.map(\.high), [0.45, 0.41])
    }

    func testTicksAndLabels() {
        let ticks = ChartTicks.nice(0...1)
        XCTAssertEqual(ticks.count, 6)
        for (t, expected) in zip(ticks, [0, 0.2, 0.4, 0.6, 0.8, 1.0]) { XCTAssertEqual(t, expected, accuracy: 1e-12) }
        XCTAssertEqual(ChartTicks.label(0.9396, range: 0.9395...0.9405), "0.9396")
        XCTAssertEqual(ChartTicks.label(0.0002, range: 0...0.001), "0.0002")
        XCTAssertEqual(ChartTicks.label(250, range: 0...1000), "250")
        XCTAssertEqual(Markup.escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;")
    }
}
