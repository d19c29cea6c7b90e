// An SVG line chart: a title, axes with ticks and labels, a legend, and series drawn as lines,
// points, or both, with optional 95% intervals (a shaded band under a line, whiskers on points).
// The x axis is linear, base-2 logarithmic (best-of-k), or categorical (names at 0, 1, 2, ...).
import Foundation

struct ChartPoint {
    var x: Double
    var y: Double
    var low: Double? = nil
    var high: Double? = nil
}

struct ChartSeries {
    enum Style { case line, points, lineAndPoints }
    var name: String
    var points: [ChartPoint]
    var style: Style = .line
}

struct LineChart {
    enum XAxis { case linear, log2, categories([String]) }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [ChartSeries]
    var xAxis: XAxis = .linear
    /// Fixed y range (e.g. 0...1 for rates); by default the data's range with a margin.
    var yRange: ClosedRange<Double>? = nil
    var width = 420.0
    var plotHeight = 200.0
    /// Longest series drawn in full; longer ones keep every n-th point (and the last).
    var maxPoints = 400

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]
    private let left = 62.0, right = 16.0, top = 30.0, axisBand = 44.0, legendRow = 18.0

    func svg() -> String {
        let series = self.series.map { s in ChartSeries(name: s.name, points: thinned(s.points.filter { $0.y.isFinite && transformedX($0.x) != nil }), style: s.style) }
        let legend = legendLayout()
        let height = top + plotHeight + axisBand + Double(legend.rows) * legendRow + 6
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\">",
                   "<title>\(Markup.escape(title))</title>",
                   "<text x=\"\(Markup.coordinate(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(Markup.escape(title))</text>"]
        let xs = series.flatMap { $0.points.compactMap { transformedX($0.x) } }
        let ys = series.flatMap { $0.points.flatMap { [$0.y, $0.low ?? $0.y, $0.high ?? $0.y] } }.filter(\.isFinite)
        guard let xr = range(xs, categorical: true), let yr = yRange ?? range(ys, categorical: false).map(padded) else {
            out.append("<text x=\"\(Markup.coordinate(width / 2))\" y=\"\(Markup.coordinate(top + plotHeight / 2))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#777\">no data</text></svg>")
            return out.joined(separator: "\n")
        }
        let plotWidth = width - left - right
        let px = { (x: Double) in left + (xr.upperBound == xr.lowerBound ? plotWidth / 2 : (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * plotWidth) }
        let py = { (y: Double) in top + plotHeight - (yr.upperBound == yr.lowerBound ? plotHeight / 2 : (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * plotHeight) }
        out += axes(xr: xr, yr: yr, px: px, py: py)
        for (index, s) in series.enumerated() {
            out += draw(s, index: index, of: series.count, px: px, py: py)
        }
        out += legendSVG(legend, y: top + plotHeight + axisBand)
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    private var categorical: Bool { if case .categories = xAxis { return true } else { return false } }

    private func transformedX(_ x: Double) -> Double? {
        if case .log2 = xAxis { return x > 0 ? Foundation.log2(x) : nil }
        return x
    }

    private func thinned(_ points: [ChartPoint]) -> [ChartPoint] {
        guard points.count > maxPoints else { return points }
        let stride = (points.count + maxPoints - 1) / maxPoints
        var kept = points.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        if let last = points.last, kept.last?.x != last.x { kept.append(last) }
        return kept
    }

    private func range(_ values: [Double], categorical isX: Bool) -> ClosedRange<Double>? {
        if isX, case .categories(let names) = xAxis { return names.isEmpty ? nil : -0.5...(Double(names.count) - 0.5) }
        guard let lo = values.min(), let hi = values.max() else { return nil }
        if isX, case .log2 = xAxis { return (lo - 0.15)...(hi + 0.15) }   // room for the end points' whiskers
        return lo...hi
    }

    private func padded(_ r: ClosedRange<Double>) -> ClosedRange<Double> {
        let span = r.upperBound - r.lowerBound
        let pad = span > 0 ? span * 0.06 : max(abs(r.lowerBound) * 0.1, 0.5)
        return (r.lowerBound - pad)...(r.upperBound + pad)
    }

    private func axes(xr: ClosedRange<Double>, yr: ClosedRange<Double>, px: (Double) -> Double, py: (Double) -> Double) -> [String] {
        let bottom = top + plotHeight, plotRight = width - right
        var out = ["<rect x=\"\(Markup.coordinate(left))\" y=\"\(Markup.coordinate(top))\" width=\"\(Markup.coordinate(plotRight - left))\" height=\"\(Markup.coordinate(plotHeight))\" fill=\"#fafafa\" stroke=\"#999\"/>"]
        for tick in ChartTicks.nice(yr) {
            let y = py(tick)
            out.append("<line x1=\"\(Markup.coordinate(left))\" y1=\"\(Markup.coordinate(y))\" x2=\"\(Markup.coordinate(plotRight))\" y2=\"\(Markup.coordinate(y))\" stroke=\"#e3e3e3\"/>")
            out.append("<text x=\"\(Markup.coordinate(left - 5))\" y=\"\(Markup.coordinate(y + 4))\" text-anchor=\"end\" font-size=\"10\">\(ChartTicks.label(tick, range: yr))</text>")
        }
        for (x, label) in xTicks(xr) {
            let sx = px(x)
            out.append("<line x1=\"\(Markup.coordinate(sx))\" y1=\"\(Markup.coordinate(bottom))\" x2=\"\(Markup.coordinate(sx))\" y2=\"\(Markup.coordinate(bottom + 4))\" stroke=\"#999\"/>")
            out.append("<text x=\"\(Markup.coordinate(sx))\" y=\"\(Markup.coordinate(bottom + 15))\" text-anchor=\"middle\" font-size=\"10\">\(Markup.escape(label))</text>")
        }
        out.append("<text x=\"\(Markup.coordinate((left + plotRight) / 2))\" y=\"\(Markup.coordinate(bottom + 32))\" text-anchor=\"middle\" font-size=\"11\">\(Markup.escape(xLabel))</text>")
        let yMid = top + plotHeight / 2
        out.append("<text x=\"13\" y=\"\(Markup.coordinate(yMid))\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 13 \(Markup.coordinate(yMid)))\">\(Markup.escape(yLabel))</text>")
        return out
    }

    private func xTicks(_ xr: ClosedRange<Double>) -> [(Double, String)] {
        switch xAxis {
        case .categories(let names): return names.enumerated().map { (Double($0.offset), $0.element) }
        case .log2:
            let lo = Int(xr.lowerBound.rounded(.up)), hi = Int(xr.upperBound.rounded(.down))
            return (lo...max(lo, hi)).map { (Double($0), String(Int(pow(2.0, Double($0))))) }
        case .linear:
            return ChartTicks.nice(xr).map { ($0, ChartTicks.label($0, range: xr)) }
        }
    }

    private func draw(_ s: ChartSeries, index: Int, of count: Int, px: @escaping (Double) -> Double, py: @escaping (Double) -> Double) -> [String] {
        let colour = Self.palette[index % Self.palette.count]
        // Side by side on a categorical or log2 axis, so intervals of several series do not hide each other.
        var shift = 0.0
        if count > 1, s.style != .line {
            if categorical { shift = (Double(index) - Double(count - 1) / 2) * min(0.5 / Double(count), 0.12) }
            if case .log2 = xAxis { shift = (Double(index) - Double(count - 1) / 2) * 0.04 }
        }
        let at = { (p: ChartPoint) in (px(transformedX(p.x)! + shift), py(p.y)) }
        var out: [String] = []
        let withIntervals = s.points.filter { $0.low != nil && $0.high != nil }
        if s.style == .line, withIntervals.count > 1 {
            let upper = withIntervals.map { "\(Markup.coordinate(px(transformedX($0.x)!))),\(Markup.coordinate(py($0.high!)))" }
            let lower = withIntervals.reversed().map { "\(Markup.coordinate(px(transformedX($0.x)!))),\(Markup.coordinate(py($0.low!)))" }
            out.append("<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.15\" stroke=\"none\"/>")
        }
        if s.style != .points, s.points.count > 1 {
            let path = s.points.map { p -> String in let (x, y) = at(p); return "\(Markup.coordinate(x)),\(Markup.coordinate(y))" }
            out.append("<polyline points=\"\(path.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.6\"/>")
        }
        if s.style != .line || s.points.count == 1 {
            for p in s.points {
                let (x, y) = at(p)
                if let low = p.low, let high = p.high {
                    let (yl, yh) = (py(low), py(high))
                    out.append("<path d=\"M\(Markup.coordinate(x)) \(Markup.coordinate(yl))V\(Markup.coordinate(yh))M\(Markup.coordinate(x - 4)) \(Markup.coordinate(yl))h8M\(Markup.coordinate(x - 4)) \(Markup.coordinate(yh))h8\" stroke=\"\(colour)\" stroke-width=\"1.3\" fill=\"none\"/>")
                }
                out.append("<circle cx=\"\(Markup.coordinate(x))\" cy=\"\(Markup.coordinate(y))\" r=\"3.2\" fill=\"\(colour)\"/>")
            }
        }
        return out
    }

    private struct LegendLayout { var entries: [(name: String, x: Double, row: Int)]; var rows: Int }

    private func legendLayout() -> LegendLayout {
        guard series.count > 1 || (series.first.map { $0.name != yLabel } ?? false) else { return LegendLayout(entries: [], rows: 0) }
        var entries: [(String, Double, Int)] = []
        var x = left, row = 0
        for s in series {
            let w = 22 + Double(s.name.count) * 6.2 + 14
            if x + w > width - right, x > left { row += 1; x = left }
            entries.append((s.name, x, row))
            x += w
        }
        return LegendLayout(entries: entries, rows: series.isEmpty ? 0 : row + 1)
    }

    private func legendSVG(_ legend: LegendLayout, y: Double) -> [String] {
        legend.entries.enumerated().flatMap { index, entry -> [String] in
            let colour = Self.palette[index % Self.palette.count]
            let ly = y + Double(entry.row) * legendRow + 10
            return ["<line x1=\"\(Markup.coordinate(entry.x))\" y1=\"\(Markup.coordinate(ly))\" x2=\"\(Markup.coordinate(entry.x + 16))\" y2=\"\(Markup.coordinate(ly))\" stroke=\"\(colour)\" stroke-width=\"3\"/>",
                    "<text x=\"\(Markup.coordinate(entry.x + 21))\" y=\"\(Markup.coordinate(ly + 4))\" font-size=\"11\">\(Markup.escape(entry.name))</text>"]
        }
    }
}

/// Round tick values (1, 2 or 5 times a power of ten) and their labels.
enum ChartTicks {
    static func nice(_ r: ClosedRange<Double>, target: Int = 5) -> [Double] {
        let span = r.upperBound - r.lowerBound
        guard span > 0, span.isFinite else { return [r.lowerBound] }
        let step = self.step(span, target: target)
        var ticks: [Double] = []
        var t = (r.lowerBound / step).rounded(.up) * step
        while t <= r.upperBound + step * 1e-9 { ticks.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return ticks
    }

    static func step(_ span: Double, target: Int) -> Double {
        let raw = span / Double(target)
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        return (fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10) * power
    }

    /// A tick label with as many decimals as the tick step needs; on an axis of tiny or huge values,
    /// three significant digits in exponent form (learning rates).
    static func label(_ v: Double, range r: ClosedRange<Double>) -> String {
        let step = self.step(r.upperBound - r.lowerBound, target: 5)
        let magnitude = max(abs(r.lowerBound), abs(r.upperBound))
        if magnitude >= 1e6 || (magnitude < 1e-3 && v != 0) { return String(format: "%.3g", v) }
        let decimals = step >= 1 || step <= 0 ? 0 : min(Int((-log10(step) - 1e-9).rounded(.up)), 8)
        return String(format: "%.\(decimals)f", v)
    }
}
