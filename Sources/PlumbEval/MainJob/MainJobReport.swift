// The main job's results: one table for people, one JSON file (`results.json`) for scripts.
import Foundation
import PlumbOracle
import PlumbStore
import PlumbTask

public struct MainJobReport: Codable {
    public var run: String
    public var seed: UInt64
    /// The pipeline files' settings profile (quick or standard).
    public var profile: String
    /// The month run directories, in order.
    public var months: [String]
    public var steps: [StepFigures]
    public var results: MainJobResults

    public init(run: String, seed: UInt64, profile: String, months: [String], steps: [StepFigures], results: MainJobResults) {
        (self.run, self.seed, self.profile, self.months, self.steps, self.results) = (run, seed, profile, months, steps, results)
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    public func text(stepTable: String) -> String {
        var lines = ["", "Plumbline main job: \(run) (seed \(seed), \(profile) settings, \(months.joined(separator: ", ")))", "", stepTable, ""]
        if let first = results.policies.first {
            lines.append("Policies judged by the oracle on \(first.report.responses) held-out prompts (greedy; 95% Wilson intervals)")
            lines.append(pad("policy", 22) + pad("helpful", 22) + pad("violations", 22) + pad("false refusals", 22) + pad("mean words", 12)
                         + "win rate over SFT")
            for p in results.policies {
                lines.append(pad(p.name, 22) + pad(rate(p.report.helpfulness), 22) + pad(rate(p.report.violation), 22)
                    + pad(rate(p.report.falseRefusal), 22) + pad(String(format: "%.1f", p.report.meanWords.mean), 12)
                    + (p.winRateOverSFT.map { rate($0.winRate) + " (\($0.wins) wins, \($0.ties) ties, \($0.losses) losses)" } ?? "-"))
            }
        }
        lines += results.choiceLines(rate: rate)
        if !results.bestOfK.isEmpty {
            lines += ["", "Best-of-k from the SFT policy on the same prompts (temperature sampling; picked by the combined reward,",
                      "the helpfulness model alone, or the oracle; reward = mean whitened combined reward of the picks)",
                      BestOfK.table(results.bestOfK)]
        }
        if !results.ppoCurve.isEmpty {
            lines += ["", "PPO over iterations: the reward models' view (mean whitened combined reward of the rollouts, KL to the",
                      "reference, response tokens) beside the oracle's (greedy answers to the evaluation prompts)",
                      PPOCurvePoint.table(results.ppoCurve)]
        }
        if let prompts = results.humanRoutes["prompts"] {
            let m = results.humanRoutes.mapValues { Int($0) }
            lines += ["", "RS prompts by route: \(Int(prompts)): reward models \(m["route.reward_model"] ?? 0), human ranking \(m["route.human_rank"] ?? 0) "
                      + "(\(m["human_rank_changed_best"] ?? 0) changed the best), human edit \(m["route.human_edit"] ?? 0); "
                      + "\(m["human_skipped"] ?? 0) tasks skipped"]
        }
        if let before = results.sftValidationLoss.before, let after = results.sftValidationLoss.after {
            lines.append(String(format: "SFT held-out response loss: %.3f (pretrained base) -> %.3f (SFT)", before, after))
        }
        if !results.rewardModels.isEmpty { lines += rewardTable() }
        lines.append("Results: \(run)/results.json")
        return lines.joined(separator: "\n")
    }

    /// Accuracy on held-out annotator pairs (with the length baselines), and agreement with the oracle
    /// on noise-free held-out pairs of the model's own dimension, overall and per preference strength.
    private func rewardTable() -> [String] {
        let strengths = ["significantly_better", "better", "slightly_better", "negligibly_better"]
        var lines = ["", "Reward models: accuracy on held-out annotator pairs; agreement with the oracle on noise-free held-out pairs",
                     pad("model", 14) + pad("annotators", 12) + pad("shorter", 9) + pad("longer", 9) + pad("oracle (own dim)", 18)
                        + strengths.map { pad($0, 22) }.joined()]
        for r in results.rewardModels {
            let strengthFigures = strengths.map { s -> String in
                let n = r.oracle["pairs.dimension_strength.\(r.dimension).\(s)"].map { " (n=\(Int($0)))" } ?? ""
                return pad(figure(r.oracle, "accuracy.dimension_strength.\(r.dimension).\(s)") + n, 22)
            }
            lines.append(pad(r.name ?? r.dimension, 14) + pad(figure(r.annotators, "accuracy"), 12) + pad(figure(r.annotators, "baseline.prefer_shorter"), 9)
                + pad(figure(r.annotators, "baseline.prefer_longer"), 9) + pad(figure(r.oracle, "accuracy.dimension.\(r.dimension)"), 18)
                + strengthFigures.joined())
        }
        return lines + gateLines() + contrastTable()
    }

    /// Llama 2's unsafe gate, sigmoid(score) < threshold, of the safety model on the held-out
    /// annotator responses that carry safety labels.
    private func gateLines() -> [String] {
        guard let m = results.rewardModels.first(where: { $0.dimension == "safety" })?.annotators,
              let threshold = m["unsafe.threshold"], let labelled = m["unsafe.labelled"], labelled > 0 else { return [] }
        return [String(format: "Safety gate sigmoid(score) < %.2f on %d labelled annotator responses", threshold, Int(labelled))
                + " (unsafe share \(figure(m, "unsafe.share"))): precision \(figure(m, "unsafe.precision")),"
                + " recall \(figure(m, "unsafe.recall")), AUROC \(figure(m, "unsafe.auroc"))"]
    }

    /// A metric to three decimals, or "-" when the manifest lacks it.
    private func figure(_ m: [String: Double], _ key: String) -> String {
        m[key].map { String(format: "%.3f", $0) } ?? "-"
    }

    /// Agreement with the oracle on the model's own dimension, by what separates the two responses
    /// (the `contrast:` tags of the oracle pairs).
    private func contrastTable() -> [String] {
        let contrasts = PairContrast.allCases
        var lines = ["", "Agreement with the oracle by what separates the pair (own dimension; n pairs)",
                     pad("model", 14) + contrasts.map { pad($0.rawValue, 22) }.joined()]
        for r in results.rewardModels {
            let cells = contrasts.map { c -> String in
                let key = "dimension_tag.\(r.dimension).\(c.tag)"
                guard let accuracy = r.oracle["accuracy." + key], let n = r.oracle["pairs." + key] else { return pad("-", 22) }
                return pad(String(format: "%.3f (n=%d)", accuracy, Int(n)), 22)
            }
            lines.append(pad(r.name ?? r.dimension, 14) + cells.joined())
        }
        return lines
    }

    private func rate(_ r: RateEstimate) -> String {
        String(format: "%.3f [%.2f, %.2f]", r.rate, r.low, r.high)
    }
}

extension MainJobResults {
    /// The lines of the choices, then the chosen policies' oracle figures month over month.
    func choiceLines(rate: (RateEstimate) -> String) -> [String] {
        guard !choices.isEmpty else { return [] }
        var lines = ["", "Each month's policy, chosen by the annotators: win rate over the reference's answers on the validation prompts "
                     + "(no stage trains on them), safety first"]
        for choice in choices {
            let s = choice.selection
            lines.append("\(choice.month): \(s.chosen)\(choice.policy == s.chosen ? "" : " (= \(choice.policy))"): \(s.reason)")
            for c in s.candidates {
                lines.append("    " + pad(c.name, 22) + String(format: "win rate %.3f [%.3f, %.3f]  safety %.3f  helpfulness %.3f  changed %.3f%@",
                                                          c.winRate, c.low, c.high, c.safetyWinRate, c.helpfulnessWinRate, c.changedShare,
                                                          c.eligible ? "" : "  (not eligible)"))
            }
        }
        lines += ["", "The chosen policies month over month (oracle, held-out prompts)",
                  pad("month", 8) + pad("policy", 22) + pad("helpful", 22) + pad("violations", 22) + pad("false refusals", 22)]
        for choice in choices {
            guard let stage = choice.evaluationStage, let p = policies.first(where: { $0.stage == stage }) else {
                lines.append(pad(choice.month, 8) + pad(choice.policy, 22) + "(no evaluation stage)")
                continue
            }
            lines.append(pad(choice.month, 8) + pad(choice.policy, 22) + pad(rate(p.report.helpfulness), 22) + pad(rate(p.report.violation), 22)
                         + pad(rate(p.report.falseRefusal), 22))
        }
        return lines
    }
}

extension PPOCurvePoint {
    static func table(_ points: [PPOCurvePoint]) -> String {
        func cell(_ x: Double?) -> String { pad(x.map { String(format: "%.3f", $0) } ?? "-", 12) }
        var lines = [pad("iteration", 11) + pad("RM reward", 12) + pad("KL", 12) + pad("length", 12) + pad("helpful", 12)
                     + pad("violations", 12) + "false refusals"]
        for p in points {
            lines.append(pad("\(p.iteration)", 11) + cell(p.scores) + cell(p.kl) + cell(p.responseLength) + cell(p.helpfulness)
                         + cell(p.violations) + String(format: "%.3f", p.falseRefusals))
        }
        return lines.joined(separator: "\n")
    }
}
