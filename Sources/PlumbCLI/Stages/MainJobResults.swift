// Reading the main job's results from its month runs' stages: every policy's oracle evaluation
// (`eval-*` stages, with the win rate over month 1's SFT policy), the reward models' evaluations,
// month 1's best-of-k curves and humans-in-the-loop routes, and the last month's PPO curve.
import Foundation
import PlumbEval
import PlumbStore

extension MainJobResults {
    /// The evaluated policies of a month run, by their evaluation stage, in table order.
    static let policyStages = [("pretrained base", "eval-pretrain"), ("SFT", "eval-sft"), ("RS (SFT on best)", "eval-sft-rs"),
                               ("DPO", "eval-dpo"), ("DPO on RS pairs", "eval-dpo-rs"), ("KTO", "eval-kto"),
                               ("PPO (from RS)", "eval-ppo"), ("RLOO (from RS)", "eval-rl")]

    static func read(months: [URL]) throws -> MainJobResults {
        var results = MainJobResults()
        let fm = FileManager.default
        for (index, run) in months.enumerated() {
            let prefix = months.count > 1 ? "m\(index + 1) " : ""
            for (name, stage) in policyStages where fm.fileExists(atPath: run.appendingPathComponent(stage).path) {
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
            results.bestOfK = try EvalBestOfKCommand.evaluate(first.appendingPathComponent("rs-eval"))
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
