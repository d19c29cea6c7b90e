// What `plumb report` reads from a run directory, generically: every stage's manifest (RunCatalog),
// every numeric figure of its metrics.jsonl by step, and the main job's results.json when present.
import Foundation
import PlumbEval
import PlumbStages
import PlumbStore

/// A stage's metrics.jsonl as curves: name -> (step, value), for optimiser steps and validation passes.
struct MetricCurves {
    var train: [String: [ChartPoint]] = [:]
    var eval: [String: [ChartPoint]] = [:]

    /// Figures that are not curves: running totals.
    static let skipped: Set<String> = ["elapsed_s", "tokens"]

    /// Reads `metrics.jsonl` (typed, `MetricsLine`); lines that do not parse (a line cut by a kill) are left out.
    static func read(_ url: URL) -> MetricCurves? {
        guard let lines = try? MetricsLine.read(url) else { return nil }
        var curves = MetricCurves()
        for line in lines where line.event == "step" || line.event == "eval" {
            guard let step = line.step else { continue }
            for (key, value) in line.figures where !skipped.contains(key) {
                let point = ChartPoint(x: Double(step), y: value)
                if line.event == "step" { curves.train[key, default: []].append(point) } else { curves.eval[key, default: []].append(point) }
            }
        }
        return curves.train.isEmpty && curves.eval.isEmpty ? nil : curves
    }
}

struct ReportStage {
    var summary: CatalogedStage
    var curves: MetricCurves?
    var name: String { summary.name }
    var manifest: StageManifest? { summary.manifest }
}

public struct ReportRun {
    public var name: String
    public var directory: URL
    var stages: [ReportStage]
    var results: MainJobFigures?
    /// Why results.json, or the run's evaluation stages, could not be read.
    var resultsProblem: String?

    public static func read(_ directory: URL) throws -> ReportRun {
        let summary = try RunCatalog.run(directory)
        let stages = summary.stages.map { ReportStage(summary: $0, curves: MetricCurves.read($0.directory.appendingPathComponent("metrics.jsonl"))) }
        var run = ReportRun(name: summary.name, directory: directory, stages: stages)
        let resultsFile = directory.appendingPathComponent("results.json")
        if FileManager.default.fileExists(atPath: resultsFile.path) {
            do { run.results = try MainJobFigures(contentsOf: resultsFile) } catch { run.resultsProblem = "\(error)" }
        } else {
            // A pipeline run without the main job's results.json: its oracle stages, read the same way.
            do {
                let results = try MainJobResults.read(months: [directory])
                if !results.policies.isEmpty || !results.bestOfK.isEmpty { run.results = MainJobFigures(results: results) }
            } catch { run.resultsProblem = "\(error)" }
        }
        return run
    }

    /// The run directories named by `paths`: a path holding stage directories is a run; one holding
    /// runs (a runs root, or a parent of monthly runs) stands for each of them, in name order.
    public static func locate(_ paths: [String]) throws -> [URL] {
        var runs: [URL] = []
        for path in paths {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else { throw ReportError("\(path): no such directory") }
            if try !RunCatalog.run(url).stages.isEmpty {
                runs.append(url)
            } else {
                let children = try RunCatalog.runs(root: url).map(\.directory)
                if children.isEmpty { throw ReportError("\(path): neither a run directory (stage directories with manifest.json) nor a directory of runs") }
                runs += children
            }
        }
        return runs
    }

    func stage(_ name: String) -> ReportStage? { stages.first { $0.name == name } }
}

/// A run directory or results file the report cannot read.
public struct ReportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
