// The PPO stage's course as the main job reports it: at each iteration the oracle judged, the
// reward models' view (the mean whitened combined reward of that iteration's rollouts, its KL to the
// reference) beside the oracle's (helpfulness, violations, false refusals of greedy answers), read
// from the stage's metrics.jsonl. A reward that rises while oracle helpfulness falls is reward hacking.
import Foundation

struct PPOCurvePoint: Codable {
    var iteration: Int
    var scores: Double?
    var kl: Double?
    var responseLength: Double?
    var helpfulness: Double
    var violations: Double
    var falseRefusals: Double

    /// One point per `eval` event of `metrics.jsonl`, with the `step` line of the same iteration.
    static func read(_ stage: URL) throws -> [PPOCurvePoint] {
        let text = try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        var steps: [Int: [String: Any]] = [:], evals: [Int: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let step = o["step"] as? Int else { continue }
            if o["event"] as? String == "step" { steps[step] = o }
            if o["event"] as? String == "eval" { evals[step] = o }
        }
        return evals.keys.sorted().compactMap { i in
            let e = evals[i]!, s = steps[i]
            guard let h = e["oracle/helpfulness"] as? Double, let v = e["oracle/violations"] as? Double,
                  let f = e["oracle/false_refusals"] as? Double else { return nil }
            return PPOCurvePoint(iteration: i, scores: s?["objective/scores"] as? Double, kl: s?["objective/kl"] as? Double,
                                 responseLength: s?["response_length"] as? Double, helpfulness: h, violations: v, falseRefusals: f)
        }
    }

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
