// A task audit as `plumb task audit` prints it: each measured flaw rate with its 95% Wilson interval
// against the rate the settings state, and the held-out check of the evaluation prompts.
import Foundation
import PlumbOracle

extension TaskAudit {
    public var summaryText: String {
        let checks: [(String, TaskAudit.Check)] = [
            ("SFT wrong answers (helpfulness)", sftWrongAnswers), ("SFT rambling (helpfulness)", sftRambling),
            ("SFT harmful compliance", sftHarmfulCompliance), ("SFT over-refusals (look-alikes)", sftOverRefusals),
            ("comparisons disagreeing with the oracle", comparisonDisagreement),
            ("wrong per-response safety labels", safetyLabelErrors),
            ("ranking pairs ordered as the oracle", rankingPairAgreement),
        ]
        var lines: [String] = []
        for (name, check) in checks {
            let m = check.measured
            lines.append(String(format: "%@: %.4f [%.4f, %.4f] (%g of %d) vs stated %.4f (%+.1f SE)",
                         name, m.rate, m.low, m.high, m.count, m.total, check.stated, check.standardErrors))
        }
        lines.append("eval prompts: \(evalPrompts); in a training file: \(evalPromptsInTraining); not held out: \(evalPromptsNotHeldOut)")
        return lines.joined(separator: "\n")
    }
}
