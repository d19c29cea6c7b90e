// The PPO stage's course as the main job reports it: at each iteration the oracle judged, the
// reward models' view (the mean whitened combined reward of that iteration's rollouts, its KL to the
// reference) beside the oracle's (helpfulness, violations, false refusals of greedy answers), read
// from the stage's metrics.jsonl. A reward that rises while oracle helpfulness falls is reward hacking.
import Foundation
import PlumbStages

public struct PPOCurvePoint: Codable {
    public var iteration: Int
    public var scores: Double?
    public var kl: Double?
    public var responseLength: Double?
    public var helpfulness: Double
    public var violations: Double
    public var falseRefusals: Double

    /// One point per `eval` event of `metrics.jsonl`, with the `step` line of the same iteration.
    public static func read(_ stage: URL) throws -> [PPOCurvePoint] {
        var steps: [Int: [String: Double]] = [:], evals: [Int: [String: Double]] = [:]
        for line in try MetricsLine.read(stage.appendingPathComponent("metrics.jsonl")) {
            guard let step = line.step else { continue }
            if line.event == "step" { steps[step] = line.figures }
            if line.event == "eval" { evals[step] = line.figures }
        }
        return evals.keys.sorted().compactMap { i in
            let e = evals[i]!, s = steps[i]
            guard let h = e["oracle/helpfulness"], let v = e["oracle/violations"], let f = e["oracle/false_refusals"] else { return nil }
            return PPOCurvePoint(iteration: i, scores: s?["objective/scores"], kl: s?["objective/kl"],
                                 responseLength: s?["response_length"], helpfulness: h, violations: v, falseRefusals: f)
        }
    }
}
