// The main job's typed results, read from its month runs' stages: every policy's oracle evaluation
// (`eval-*` stages, with the win rate over month 1's SFT policy), the reward models' evaluations,
// month 1's best-of-k curves and humans-in-the-loop routes, and the last month's PPO curve.
import Foundation
import PlumbOracle
import PlumbStages
import PlumbStore

public struct PolicyResult: Codable {
    public var name: String
    public var stage: String
    public var report: OracleReport
    /// The oracle's win rate of this policy's responses over the SFT policy's (ties count half).
    public var winRateOverSFT: WinRateReport?
}

/// A reward model's eval-stage metrics on held-out annotator pairs and on noise-free oracle pairs.
public struct RewardModelResult: Codable {
    public var dimension: String
    /// The row's name (the month and dimension, in a run of several months).
    public var name: String?
    public var annotators: [String: Double] = [:]
    public var oracle: [String: Double] = [:]
}

public struct MainJobResults: Codable {
    public var policies: [PolicyResult] = []
    public var rewardModels: [RewardModelResult] = []
    /// Best-of-k curves of the SFT policy on the evaluation prompts.
    public var bestOfK: [BestOfKRow] = []
    /// The PPO stage's reward-model reward and KL beside the oracle's judgement, over iterations.
    public var ppoCurve: [PPOCurvePoint] = []
    /// SFT's response-only loss on held-out demonstrations, before (the pretrained base) and after.
    public var sftValidationLoss: (before: Double?, after: Double?) = (nil, nil)
    /// The rs-merge stage's metrics: prompts per route (reward model, human rank, human edit), tasks, skips.
    public var humanRoutes: [String: Double] = [:]
    /// Each month's `select` stage.
    public var choices: [MonthChoice] = []

    enum CodingKeys: String, CodingKey {
        case policies, rewardModels, bestOfK, ppoCurve, sftValidationLossBefore, sftValidationLossAfter, humanRoutes, choices
    }

    public init() {}

    public init(from decoder: Decoder) throws {
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

    public func encode(to encoder: Encoder) throws {
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

extension MainJobResults {
    /// The evaluated policies of a month run whose `eval oracle` stages carry no `title` (runs made
    /// before titles), by their evaluation stage, in table order.
    static let untitledPolicyStages = [("pretrained base", "eval-pretrain"), ("SFT", "eval-sft"), ("RS (SFT on best)", "eval-sft-rs"),
                               ("DPO", "eval-dpo"), ("DPO on RS pairs", "eval-dpo-rs"), ("KTO", "eval-kto"), ("KTO on thumbs", "eval-kto-thumbs"),
                               ("PPO (from RS)", "eval-ppo"), ("RLOO (from RS)", "eval-rl")]

    public static func read(months: [URL]) throws -> MainJobResults {
        var results = MainJobResults()
        let fm = FileManager.default
        for (index, run) in months.enumerated() {
            let prefix = months.count > 1 ? "m\(index + 1) " : ""
            for (name, stage) in policyStages(of: run) where fm.fileExists(atPath: run.appendingPathComponent(stage).path) {
                let evaluation = try OracleEvaluation.read(run.appendingPathComponent(stage))
                results.policies.append(PolicyResult(name: prefix + name, stage: "\(run.lastPathComponent)/\(stage)",
                                                     report: evaluation.report, winRateOverSFT: evaluation.versus))
            }
            for dimension in ["helpfulness", "safety"] {
                let annotators = run.appendingPathComponent("rm-eval-\(dimension)-annotators")
                let oracle = run.appendingPathComponent("rm-eval-\(dimension)-oracle")
                guard fm.fileExists(atPath: oracle.path) else { continue }
                var result = RewardModelResult(dimension: dimension, name: prefix + dimension)
                result.oracle = try StageManifest.read(from: oracle).metrics
                if fm.fileExists(atPath: annotators.path) { result.annotators = try StageManifest.read(from: annotators).metrics }
                results.rewardModels.append(result)
            }
        }
        results.choices = try choices(months: months)
        guard let first = months.first, let last = months.last else { return results }
        if fm.fileExists(atPath: first.appendingPathComponent("rs-eval").path) {
            results.bestOfK = try BestOfK.evaluate(first.appendingPathComponent("rs-eval"))
        }
        if fm.fileExists(atPath: last.appendingPathComponent("ppo").path) {
            results.ppoCurve = try PPOCurvePoint.read(last.appendingPathComponent("ppo"))
        }
        if fm.fileExists(atPath: first.appendingPathComponent("rs-human").path) {
            results.humanRoutes = try StageManifest.read(from: first.appendingPathComponent("rs-human")).metrics
        }
        if fm.fileExists(atPath: first.appendingPathComponent("sft").path) {
            let sft = try StageManifest.read(from: first.appendingPathComponent("sft"))
            results.sftValidationLoss = (sft.metrics["initial_val_loss"], sft.metrics["val_loss"])
        }
        return results
    }
}

extension MainJobResults {
    /// The evaluated policies of a month run, (title, stage), in its pipeline file's order: every
    /// `eval oracle` stage with a `title`, the order read from the runner's record of the run
    /// (`pipeline-run.json`: every stage of the file, in order). A run with no titled stage falls
    /// back to `untitledPolicyStages`.
    static func policyStages(of run: URL) -> [(String, String)] {
        struct RunRecord: Decodable { var stages: [String] }
        let order = (try? JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: run.appendingPathComponent("pipeline-run.json"))))?.stages ?? []
        let titled = order.compactMap { stage -> (String, String)? in
            guard let manifest = try? StageManifest.read(from: run.appendingPathComponent(stage)), manifest.kind == OracleEvalStage.kind.name,
                  case .object(let config) = manifest.config, case .string(let title)? = config["title"] else { return nil }
            return (title, stage)
        }
        return titled.isEmpty ? untitledPolicyStages : titled
    }
}
