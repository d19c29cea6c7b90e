// The main job's results: one table for people, one JSON file (`results.json`) for scripts.
import Foundation
import PlumbEval
import PlumbTask
import PlumbOracle

struct PolicyResult: Codable {
    var name: String
    var stage: String
    var report: OracleReport
    /// The oracle's win rate of this policy's responses over the SFT policy's (ties count half).
    var winRateOverSFT: WinRateReport?
}

/// A reward model's eval-stage metrics on held-out annotator pairs and on noise-free oracle pairs.
struct RewardModelResult: Codable {
    var dimension: String
    /// The row's name (the month and dimension, in a run of several months).
    var name: String?
    var annotators: [String: Double] = [:]
    var oracle: [String: Double] = [:]
}

struct MainJobResults: Codable {
    var policies: [PolicyResult] = []
    var rewardModels: [RewardModelResult] = []
    /// Best-of-k curves of the SFT policy on the evaluation prompts.
    var bestOfK: [BestOfKRow] = []
    /// The PPO stage's reward-model reward and KL beside the oracle's judgement, over iterations.
    var ppoCurve: [PPOCurvePoint] = []
    /// SFT's response-only loss on held-out demonstrations, before (the pretrained base) and after.
    var sftValidationLoss: (before: Double?, after: Double?) = (nil, nil)
    /// The rs-merge stage's metrics: prompts per route (reward model, human rank, human edit), tasks, skips.
    var humanRoutes: [String: Double] = [:]
    /// Each month's `select` stage.
    var choices: [MonthChoice] = []

    enum CodingKeys: String, CodingKey {
        case policies, rewardModels, bestOfK, ppoCurve, sftValidationLossBefore, sftValidationLossAfter, humanRoutes, choices
    }

    init() {}

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policies = try c.decode([PolicyResult].self, forKey: .policies)
        rewardModels = try c.decode([RewardModelResult].self, forKey: .rewardModels)
        bestOfK = try c.decodeIfPresent([BestOfKRow].self, forKey: .bestOfK) ?? []
        ppoCurve = try c.decodeIfPresent([PPOCurvePoint].self, forKey: .ppoCurve) ?? []
        humanRoutes = try c.decodeIfPresent([String: Double].self, forKey: .humanRoutes) ?? [:]
        choices = try c.decodeIfPresent([MonthChoice].self, forKey: .choices) ?? []
        sftValidationLoss = (try c.decodeIfPresent(Double.self, forKey: .sftValidationLossBefore),
                             try c.decodeIfPresent(Double.self, forKey: .sftValidationLossAfter))
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(policies, forKey: .policies)
        try c.encode(rewardModels, forKey: .rewardModels)
        try c.encode(bestOfK, forKey: .bestOfK)
        try c.encode(ppoCurve, forKey: .ppoCurve)
        try c.encode(humanRoutes, forKey: .humanRoutes)
        try c.encode(choices, forKey: .choices)
        try c.encodeIfPresent(sftValidationLoss.before, forKey: .sftValidationLossBefore)
        try c.encodeIfPresent(sftValidationLoss.after, forKey: .sftValidationLossAfter)
    }
}

struct MainJobReport: Codable {
    var run: String
    var seed: UInt64
    /// The pipeline files' settings profile (quick or standard).
    var profile: String
    /// The month run directories, in order.
    var months: [String]
    var steps: [StepFigures]
    var results: MainJobResults

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    func text(stepTable: String) -> String {
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
