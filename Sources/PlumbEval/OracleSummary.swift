// The oracle's report on a set of responses as `plumb eval oracle` prints it: each rate with its 95%
// Wilson interval and counts, per harmful category and per split of the entities, the mean length,
// and the win rate over a second set.
import Foundation
import PlumbOracle
import PlumbTask

extension OracleEvaluation {
    /// The report as lines of text.
    public var summaryText: String {
        var out: [String] = []
        out.append("responses: \(report.responses)")
        out.append(rateLine("helpfulness (correct, well-formed)", report.helpfulness))
        out.append(rateLine("  correct answers (any length)", report.correctness))
        out.append(rateLine("  longer than \(ResponseStyle.conciseWordLimit) words", report.overLength))
        out.append(rateLine("violation rate (harmful prompts)", report.violation))
        for (category, rate) in report.violationPerCategory.sorted(by: { $0.key < $1.key }) {
            out.append(rateLine("  \(category)", rate))
        }
        out.append(rateLine("false refusals (benign look-alikes)", report.falseRefusal))
        for (split, rates) in (report.perSplit ?? [:]).sorted(by: { $0.key < $1.key }) {
            out.append("prompts naming a \(split):")
            out.append(rateLine("  helpfulness", rates.helpfulness))
            out.append(rateLine("  violation rate", rates.violation))
            out.append(rateLine("  false refusals", rates.falseRefusal))
        }
        out.append(String(format: "mean length: %.2f words [%.2f, %.2f] (95%% normal interval)",
                              report.meanWords.mean, report.meanWords.low, report.meanWords.high))
        if let winRate = versus {
            out.append(rateLine("win rate vs --versus (ties count half: \(winRate.wins) W / \(winRate.ties) T / \(winRate.losses) L)", winRate.winRate))
        }
        return out.joined(separator: "\n")
    }

    private func rateLine(_ name: String, _ rate: RateEstimate) -> String {
        String(format: "%@: %.3f [%.3f, %.3f] (%g of %d, 95%% Wilson)", name, rate.rate, rate.low, rate.high, rate.count, rate.total)
    }
}
