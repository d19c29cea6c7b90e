// Best-of-k curves from one rejection-sampling `samples` stage (AlpacaFarm; Gao et al. 2023): for
// k = 1, 2, 4, ..., K, each prompt's first k samples, one picked by a selector, judged by the oracle.
// Selectors: the combined reward (what RS keeps), the helpfulness model alone, and the oracle's own
// score (the upper bound). A sample that ended on end-of-sequence is preferred to one that did not
// (as RS's best); ties go to the lower sample index. Beside the oracle's figures, the mean whitened
// combined reward of the picks: where it keeps rising while oracle helpfulness stalls, the policy is
// being optimised against the reward model rather than the task (over-optimisation).
// Evaluation only: lives in PlumbEval, which may import the oracle.
import Foundation
import PlumbStore
import PlumbOracle
import PlumbStages

public enum BestOfKSelector: String, CaseIterable, Codable {
    case combined
    case helpfulness
    case oracle
}

public struct BestOfKRow: Codable {
    public var k: Int
    public var selector: BestOfKSelector
    public var report: OracleReport
    /// Mean whitened combined reward of the picked samples (the reward models' view).
    public var meanReward: Double
}

public enum BestOfK {
    /// The ks of the curve: powers of two up to K, and K itself.
    public static func ks(upTo maxK: Int) -> [Int] {
        var out: [Int] = []
        var k = 1
        while k < maxK { out.append(k); k *= 2 }
        out.append(maxK)
        return out
    }

    public static func curves(_ samples: [RejectionSample], reward: CombinedReward) throws -> [BestOfKRow] {
        let byPrompt = Dictionary(grouping: samples, by: \.promptID)
        var seen = Set<String>()
        let order = samples.map(\.promptID).filter { seen.insert($0).inserted }   // first appearance
        let groups = order.map { byPrompt[$0]!.sorted { $0.sample < $1.sample } }
        guard let maxK = groups.map(\.count).min(), maxK > 0 else { throw StageError("best-of-k: the samples stage holds no samples") }
        // The oracle's verdict on every sample, once.
        var verdicts: [String: OracleVerdict] = [:]
        for s in samples {
            verdicts["\(s.promptID)#\(s.sample)"] = try OracleJudge.judge(prompt: userText(s), response: s.text)
        }
        var rows: [BestOfKRow] = []
        for k in ks(upTo: maxK) {
            for selector in BestOfKSelector.allCases {
                let picks = groups.map { group in pick(Array(group.prefix(k)), selector: selector, verdicts: verdicts) }
                let meanReward = picks.reduce(0.0) { $0 + Double(reward.whitened($1.combined)) } / Double(picks.count)
                rows.append(BestOfKRow(k: k, selector: selector, report: OracleReport(picks.map { verdicts["\($0.promptID)#\($0.sample)"]! }),
                                       meanReward: meanReward))
            }
        }
        return rows
    }

    public static func pick(_ candidates: [RejectionSample], selector: BestOfKSelector, verdicts: [String: OracleVerdict]) -> RejectionSample {
        func score(_ s: RejectionSample) -> Double {
            switch selector {
            case .combined: return Double(s.combined)
            case .helpfulness: return Double(s.helpfulness)
            case .oracle: return verdicts["\(s.promptID)#\(s.sample)"]!.score
            }
        }
        let pool = candidates.contains(where: \.finished) && selector != .oracle ? candidates.filter(\.finished) : candidates
        return pool.enumerated().max { a, b in
            let (x, y) = (score(a.element), score(b.element))
            return x != y ? x < y : a.offset > b.offset
        }!.element
    }

    /// The prompt's last user turn, as the oracle reads prompts.
    public static func userText(_ s: RejectionSample) -> String {
        s.prompt.messages.last { $0.role == .user }?.content ?? ""
    }
}

extension BestOfK {
    /// The curves of a complete `rs` stage: its samples, each judged by the oracle, picked by each selector.
    public static func evaluate(_ stage: URL) throws -> [BestOfKRow] {
        let read = try StageRecordReader.read(RejectionSample.self, output: "samples", from: [stage], schema: RejectionSample.schema)
        let artifact = try RejectionSamplingStage.RewardArtifact.read(from: stage)
        return try curves(read.records, reward: artifact.reward)
    }
}

extension BestOfK {
    /// The curves as a text table.
    public static func table(_ rows: [BestOfKRow]) -> String {
        func rate(_ r: RateEstimate) -> String { String(format: "%.3f [%.3f, %.3f]", r.rate, r.low, r.high) }
        var lines = [pad("k", 5) + pad("selector", 13) + pad("helpful", 23) + pad("violations", 23) + pad("false refusals", 23) + "reward"]
        for r in rows {
            lines.append(pad("\(r.k)", 5) + pad(r.selector.rawValue, 13) + pad(rate(r.report.helpfulness), 23) + pad(rate(r.report.violation), 23)
                         + pad(rate(r.report.falseRefusal), 23) + String(format: "%+.3f", r.meanReward))
        }
        return lines.joined(separator: "\n")
    }
}
