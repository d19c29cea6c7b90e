// The figures of a main job's results.json that the report draws, read generically (a key a file of
// another month lacks is left out rather than failing the page): policies judged by the oracle and
// best-of-k rows, each with 95% intervals.
import Foundation
import PlumbEval

struct RateFigure {
    var rate: Double
    var low: Double
    var high: Double

    init?(_ value: Any?) {
        guard let object = value as? [String: Any], let rate = jsonNumber(object["rate"]) else { return nil }
        self.rate = rate
        low = jsonNumber(object["low"]) ?? rate
        high = jsonNumber(object["high"]) ?? rate
    }

    var point: (y: Double, low: Double, high: Double) { (rate, low, high) }
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
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any],
              let results = root["results"] as? [String: Any] else { throw CLIError("\(source): no \"results\" object") }
        func rates(_ report: Any?) -> [String: RateFigure] {
            let object = report as? [String: Any] ?? [:]
            return Dictionary(uniqueKeysWithValues: Self.rates.compactMap { r in RateFigure(object[r.key]).map { (r.key, $0) } })
        }
        for case let p as [String: Any] in results["policies"] as? [Any] ?? [] {
            guard let name = p["name"] as? String else { continue }
            var figures = rates(p["report"])
            if let win = RateFigure((p["winRateOverSFT"] as? [String: Any])?["winRate"]) { figures["winRateOverSFT"] = win }
            policies.append(Policy(name: name, stage: p["stage"] as? String ?? name, rates: figures))
        }
        for case let row as [String: Any] in results["bestOfK"] as? [Any] ?? [] {
            guard let k = jsonNumber(row["k"]).map { Int($0) }, let selector = row["selector"] as? String else { continue }
            bestOfK.append(BestOfKRow(k: k, selector: selector, rates: rates(row["report"]),
                                      meanReward: jsonNumber(row["meanReward"])))
        }
    }
}

/// A JSON number from JSONSerialization's output as a Double; strings ("nan") and other values are nil.
func jsonNumber(_ value: Any?) -> Double? {
    switch value {
    case let d as Double: return d
    case let i as Int: return Double(i)
    case let n as NSNumber: return n.doubleValue
    default: return nil
    }
}
