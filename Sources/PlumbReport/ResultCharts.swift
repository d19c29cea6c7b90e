// Charts of evaluation results: policies judged by the oracle (per run, and across runs when there
// are several, e.g. months), best-of-k curves, and reward-model accuracy by preference strength.
// Every rate is drawn with its 95% interval.
import Foundation
import PlumbEval
import PlumbOracle
import PlumbStages
import PlumbStore

enum ResultCharts {
    static let rateTitles = MainJobFigures.rates + [("winRateOverSFT", "Win rate over SFT (oracle)")]

    /// One chart per rate: the policies side by side, one series per run.
    static func policies(_ runs: [ReportRun]) -> [LineChart] {
        let withResults = runs.filter { !($0.results?.policies.isEmpty ?? true) }
        guard !withResults.isEmpty else { return [] }
        var names: [String] = []
        for run in withResults { for p in run.results!.policies where !names.contains(p.name) { names.append(p.name) } }
        return rateTitles.compactMap { rate in
            let series = withResults.map { run in
                ChartSeries(name: run.name, points: run.results!.policies.compactMap { p in
                    p.rates[rate.key].map { ChartPoint(x: Double(names.firstIndex(of: p.name)!), y: $0.rate, low: $0.low, high: $0.high) }
                }, style: .points)
            }
            guard series.contains(where: { !$0.points.isEmpty }) else { return nil }
            return LineChart(title: rate.title, xLabel: "policy", yLabel: "rate (95% interval)", series: series,
                             xAxis: .categories(names), yRange: 0...1, width: 640)
        }
    }

    /// With several runs: one chart per rate, the runs in order along x, one line per policy.
    static func policiesAcrossRuns(_ runs: [ReportRun]) -> [LineChart] {
        let withResults = runs.filter { !($0.results?.policies.isEmpty ?? true) }
        guard withResults.count > 1 else { return [] }
        var names: [String] = []
        for run in withResults { for p in run.results!.policies where !names.contains(p.name) { names.append(p.name) } }
        return rateTitles.prefix(3).map { rate in
            let series = names.map { name in
                ChartSeries(name: name, points: withResults.enumerated().compactMap { index, run in
                    run.results!.policies.first { $0.name == name }?.rates[rate.key].map {
                        ChartPoint(x: Double(index), y: $0.rate, low: $0.low, high: $0.high)
                    }
                }, style: .lineAndPoints)
            }
            return LineChart(title: "\(rate.title) across runs", xLabel: "run", yLabel: "rate (95% interval)", series: series,
                             xAxis: .categories(withResults.map(\.name)), yRange: 0...1, width: 640)
        }
    }

    /// With several runs that choose their policy (`select`): the chosen policy of each run judged by
    /// the oracle, one chart per rate, the runs along x (Llama 2's Figure 11 on the task). A choice of
    /// the previous run's policy is drawn with that policy's figures.
    static func chosenAcrossRuns(_ runs: [ReportRun]) -> [LineChart] {
        guard runs.count > 1, let choices = try? MainJobResults.choices(months: runs.map(\.directory)), choices.count > 1 else { return [] }
        let policies = runs.flatMap { $0.results?.policies ?? [] }
        let chosen: [(label: String, rates: [String: RateFigure])] = choices.compactMap { choice in
            guard let stage = choice.evaluationStage, let p = policies.first(where: { $0.stage == stage }) else { return nil }
            return ("\(choice.month): \(choice.policy.split(separator: "/").last ?? "")", p.rates)
        }
        guard chosen.count > 1 else { return [] }
        return MainJobFigures.rates.map { rate in
            let points = chosen.enumerated().compactMap { index, c in
                c.rates[rate.key].map { ChartPoint(x: Double(index), y: $0.rate, low: $0.low, high: $0.high) }
            }
            return LineChart(title: "\(rate.title) of each month's chosen policy", xLabel: "month", yLabel: "rate (95% interval)",
                             series: [ChartSeries(name: "chosen (select)", points: points, style: .lineAndPoints)],
                             xAxis: .categories(chosen.map(\.label)), yRange: 0...1, width: 640)
        }
    }

    /// Best-of-k: each oracle rate the rows hold and the mean combined reward of the picks against k, one line per selector.
    static func bestOfK(_ figures: MainJobFigures) -> [LineChart] {
        guard !figures.bestOfK.isEmpty else { return [] }
        var selectors: [String] = []
        for row in figures.bestOfK where !selectors.contains(row.selector) { selectors.append(row.selector) }
        func rows(_ selector: String) -> [MainJobFigures.BestOfKRow] { figures.bestOfK.filter { $0.selector == selector } }
        var charts = MainJobFigures.rates.filter { rate in figures.bestOfK.contains { $0.rates[rate.key] != nil } }.map { rate in
            LineChart(title: "Best-of-k: \(rate.title.lowercased())", xLabel: "k (samples per prompt)", yLabel: "rate (95% interval)",
                      series: selectors.map { s in
                          ChartSeries(name: "picked by \(s)", points: rows(s).compactMap { row in
                              row.rates[rate.key].map { ChartPoint(x: Double(row.k), y: $0.rate, low: $0.low, high: $0.high) }
                          }, style: .lineAndPoints)
                      }, xAxis: .log2, yRange: 0...1)
        }
        charts.append(LineChart(title: "Best-of-k: mean whitened combined reward", xLabel: "k (samples per prompt)", yLabel: "reward",
                                series: selectors.map { s in
                                    ChartSeries(name: "picked by \(s)", points: rows(s).compactMap { row in
                                        row.meanReward.map { ChartPoint(x: Double(row.k), y: $0) }
                                    }, style: .lineAndPoints)
                                }, xAxis: .log2))
        return charts
    }

    static let strengths = ["significantly_better", "better", "slightly_better", "negligibly_better"]

    /// Accuracy of each reward-model evaluation stage (kind `rm-eval`) by preference strength, on the
    /// pairs of the evaluated model's own dimension when the model's stage names it, else on all
    /// pairs; Wilson intervals from the pair counts.
    static func rewardAccuracy(_ run: ReportRun) -> LineChart? {
        let evals = run.stages.filter { $0.manifest?.kind == StageKind.rmEval.name }
        let series = evals.compactMap { stage -> ChartSeries? in
            let metrics = stage.manifest!.metrics
            let dimension = modelDimension(stage, in: run)
            let scope = dimension.map { "dimension_strength.\($0)." } ?? "strength."
            let points = strengths.enumerated().compactMap { index, strength -> ChartPoint? in
                guard let accuracy = metrics["accuracy." + scope + strength], let pairs = metrics["pairs." + scope + strength], pairs > 0 else { return nil }
                let interval = RateEstimate(count: (accuracy * pairs).rounded(), total: Int(pairs))
                return ChartPoint(x: Double(index), y: accuracy, low: interval.low, high: interval.high)
            }
            return points.isEmpty ? nil : ChartSeries(name: stage.name + (dimension.map { " (\($0) pairs)" } ?? ""), points: points, style: .lineAndPoints)
        }
        guard !series.isEmpty else { return nil }
        return LineChart(title: "Reward-model accuracy by preference strength", xLabel: "preference strength", yLabel: "accuracy (95% interval)",
                         series: series, xAxis: .categories(strengths), yRange: 0...1, width: 640, plotHeight: 240)
    }

    /// The dimension of the reward model an rm eval stage evaluated: its manifest's `model` input names
    /// the stage that produced it, whose parameters (RewardModelStage.Parameters) name the dimension.
    static func modelDimension(_ stage: ReportStage, in run: ReportRun) -> String? {
        guard let producer = stage.manifest?.slots?["model"]?.first?.producedBy, let name = producer.split(separator: "/").last,
              let config = run.stage(String(name))?.manifest?.config, let json = try? config.canonicalJSON(),
              let parameters = try? JSONDecoder().decode(RewardModelStage.Parameters.self, from: json) else { return nil }
        return parameters.dimension.rawValue
    }
}
