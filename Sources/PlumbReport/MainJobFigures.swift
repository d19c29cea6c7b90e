// The figures of a main job's results that the report draws: policies judged by the oracle and
// best-of-k rows, each with 95% intervals, read from the typed results of a run's stages or from a
// results.json through Decodable types in which every figure is optional (a figure a file of another
// month lacks is left out rather than failing the page).
import Foundation
import PlumbEval
import PlumbOracle

struct RateFigure: Decodable {
    var rate: Double
    var low: Double
    var high: Double

    enum CodingKeys: String, CodingKey { case rate, low, high }

    /// A rate as results.json holds it; an interval end it lacks is the rate itself.
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rate = try c.decode(Double.self, forKey: .rate)
        low = (try? c.decodeIfPresent(Double.self, forKey: .low)) ?? rate
        high = (try? c.decodeIfPresent(Double.self, forKey: .high)) ?? rate
    }

    init?(_ estimate: RateEstimate?) {
        guard let estimate, estimate.rate.isFinite else { return nil }
        (rate, low, high) = (estimate.rate, estimate.low, estimate.high)
    }

    var point: (y: Double, low: Double, high: Double) { (rate, low, high) }
}

/// A value that decodes when it can and is nil when it cannot (a figure of another shape, "nan", a
/// row another version wrote without a field this one needs), so one odd figure leaves out that figure.
struct Lenient<T: Decodable>: Decodable {
    var value: T?
    init(from decoder: Decoder) throws { value = try? T(from: decoder) }
}

/// results.json as the report reads it: MainJobReport's `results`, with only the figures drawn, each
/// optional (a file of another month or version that lacks one draws what it has).
struct ResultsFile: Decodable {
    struct Policy: Decodable {
        struct WinRate: Decodable { var winRate: Lenient<RateFigure>? }
        var name: String
        var stage: String?
        var report: [String: Lenient<RateFigure>]?
        var winRateOverSFT: WinRate?
    }

    struct BestOfK: Decodable {
        var k: Int
        var selector: String
        var report: [String: Lenient<RateFigure>]?
        var meanReward: Lenient<Double>?
    }

    struct Results: Decodable {
        var policies: [Lenient<Policy>]?
        var bestOfK: [Lenient<BestOfK>]?
    }

    var results: Results
}

struct MainJobFigures {
    struct Policy {
        var name: String
        var stage: String
        var rates: [String: RateFigure]
    }

    struct BestOfKRow {
        var k: Int
        var selector: String
        var rates: [String: RateFigure]
        var meanReward: Double?
    }

    /// The oracle's rates the report draws, by their key in an oracle report, with a title each.
    static let rates: [(key: String, title: String)] = [("helpfulness", "Oracle helpfulness"), ("violation", "Violation rate"),
                                                         ("falseRefusal", "False refusal rate")]

    var policies: [Policy] = []
    var bestOfK: [BestOfKRow] = []

    init(contentsOf url: URL) throws {
        try self.init(json: Data(contentsOf: url), source: url.path)
    }

    /// From the bytes of a results.json (`source` names them in an error).
    init(json: Data, source: String) throws {
        let file: ResultsFile
        do { file = try JSONDecoder().decode(ResultsFile.self, from: json) } catch {
            throw ReportError("\(source): no \"results\" object (\(error))")
        }
        func rates(_ report: [String: Lenient<RateFigure>]?) -> [String: RateFigure] {
            Dictionary(uniqueKeysWithValues: Self.rates.compactMap { r in report?[r.key]?.value.map { (r.key, $0) } })
        }
        for p in (file.results.policies ?? []).compactMap(\.value) {
            var figures = rates(p.report)
            if let win = p.winRateOverSFT?.winRate?.value { figures["winRateOverSFT"] = win }
            policies.append(Policy(name: p.name, stage: p.stage ?? p.name, rates: figures))
        }
        bestOfK = (file.results.bestOfK ?? []).compactMap(\.value).map {
            BestOfKRow(k: $0.k, selector: $0.selector, rates: rates($0.report), meanReward: $0.meanReward?.value)
        }
    }

    /// From the typed results of a run's stages.
    init(results: MainJobResults) {
        func rates(_ report: OracleReport) -> [String: RateFigure] {
            let estimates = ["helpfulness": report.helpfulness, "violation": report.violation, "falseRefusal": report.falseRefusal]
            return estimates.compactMapValues { RateFigure($0) }
        }
        policies = results.policies.map { p in
            var figures = rates(p.report)
            if let win = RateFigure(p.winRateOverSFT?.winRate) { figures["winRateOverSFT"] = win }
            return Policy(name: p.name, stage: p.stage, rates: figures)
        }
        bestOfK = results.bestOfK.map { BestOfKRow(k: $0.k, selector: $0.selector.rawValue, rates: rates($0.report), meanReward: $0.meanReward) }
    }
}
