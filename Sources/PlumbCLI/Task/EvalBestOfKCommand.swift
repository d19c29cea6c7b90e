// `plumb eval best-of-k`: best-of-k curves of a rejection-sampling stage's samples under three
// selectors, judged by the oracle (BestOfK).
import ArgumentParser
import Foundation
import PlumbEval
import PlumbOracle
import PlumbStages

struct EvalBestOfKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "best-of-k",
        abstract: "Best-of-k curves (k = 1, 2, 4, ..., K) of an rs stage's samples, picked by the combined reward, the helpfulness model or the oracle.")
    @Option(help: "An rs stage directory.") var samples: String
    @Flag(help: "Print JSON rows instead of a table.") var json = false

    func run() throws {
        let stage = URL(fileURLWithPath: samples).standardizedFileURL
        let rows = try BestOfK.evaluate(stage)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            print(BestOfK.table(rows))
        }
    }
}

extension BestOfK {
    /// The curves as a text table.
    static func table(_ rows: [BestOfKRow]) -> String {
        func rate(_ r: RateEstimate) -> String { String(format: "%.3f [%.3f, %.3f]", r.rate, r.low, r.high) }
        var lines = [pad("k", 5) + pad("selector", 13) + pad("helpful", 23) + pad("violations", 23) + pad("false refusals", 23) + "reward"]
        for r in rows {
            lines.append(pad("\(r.k)", 5) + pad(r.selector.rawValue, 13) + pad(rate(r.report.helpfulness), 23) + pad(rate(r.report.violation), 23)
                         + pad(rate(r.report.falseRefusal), 23) + String(format: "%+.3f", r.meanReward))
        }
        return lines.joined(separator: "\n")
    }
}
