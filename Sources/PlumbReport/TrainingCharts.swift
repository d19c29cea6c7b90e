// A training stage's curves, one chart per figure of its metrics.jsonl: the optimiser steps' value
// as a line and, on the same chart, the validation figure of the same name (`val_X`, `eval_X`) as
// points. Figures that never change are listed instead of drawn.
import Foundation

enum TrainingCharts {
    /// Figures drawn last: the optimiser's settings and throughput rather than what is learnt.
    static let bookkeeping = ["lr", "grad_norm", "tokens_per_second", "target_tokens"]

    static func charts(_ curves: MetricCurves) -> (charts: [LineChart], constants: [(name: String, value: Double)]) {
        var evalLeft = curves.eval
        var groups: [(name: String, series: [ChartSeries])] = []
        for key in order(Array(curves.train.keys)) {
            var series = [ChartSeries(name: "train \(key)", points: curves.train[key]!, style: .line)]
            for evalKey in ["val_" + key, "eval_" + key, key] {
                guard let points = evalLeft.removeValue(forKey: evalKey) else { continue }
                // Two names for the same figures (DPO's val_loss and eval_loss): one series, both names.
                if let same = series.indices.dropFirst().first(where: { same(series[$0].points, points) }) {
                    series[same].name += " = \(evalKey)"
                } else {
                    series.append(ChartSeries(name: "eval \(evalKey)", points: points, style: .lineAndPoints))
                }
            }
            groups.append((key, series))
        }
        // A figure logged with its interval (`X`, `X_low`, `X_high`: PPO's oracle judgements) is one
        // series with error bars.
        for key in Array(evalLeft.keys) {
            guard let low = evalLeft[key + "_low"], let high = evalLeft[key + "_high"], var points = evalLeft[key],
                  low.count == points.count, high.count == points.count else { continue }
            for i in points.indices { points[i].low = low[i].y; points[i].high = high[i].y }
            evalLeft[key] = points
            evalLeft[key + "_low"] = nil
            evalLeft[key + "_high"] = nil
        }
        for key in order(Array(evalLeft.keys)) {
            groups.append((key, [ChartSeries(name: "eval \(key)", points: evalLeft[key]!, style: .lineAndPoints)]))
        }
        var charts: [LineChart] = [], constants: [(String, Double)] = []
        for group in groups {
            if let value = constantValue(group.series) {
                constants += group.series.map { ($0.name, value) }
            } else {
                charts.append(LineChart(title: group.name, xLabel: "step", yLabel: group.name, series: group.series))
            }
        }
        return (charts, constants)
    }

    static func same(_ a: [ChartPoint], _ b: [ChartPoint]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.x == $1.x && $0.y == $1.y }
    }

    /// Loss first, then by name, the bookkeeping figures last.
    static func order(_ keys: [String]) -> [String] {
        keys.sorted { a, b in
            let rank = { (k: String) in k == "loss" || k.hasSuffix("_loss") ? 0 : bookkeeping.contains(k) ? 2 : 1 }
            return (rank(a), a) < (rank(b), b)
        }
    }

    /// The one value every point of every series has, if they all have the same.
    static func constantValue(_ series: [ChartSeries]) -> Double? {
        let values = series.flatMap { $0.points.map(\.y) }
        guard let first = values.first, values.allSatisfy({ $0 == first }) else { return nil }
        return first
    }
}
