// Figures of a reward model on held-out comparisons, from the scores it gave (pure; no model here).
//
//   accuracy          share of comparisons with r_chosen > r_rejected (a tie counts as wrong),
//                     overall, per preference strength (Llama 2 Table 8), per source stage, per dimension,
//                     per dimension and strength, per prompt tag (and per dimension and tag) (a prompt's categories, as RewardBench
//                     reports accuracy per subset)
//   baselines         "prefer the shorter response" / "prefer the longer response" by characters
//                     (a tie of lengths counts one half)
//   score statistics  mean, std (population), min, max, quantiles over every score given (chosen
//                     and rejected), for whitening scores in later stages
//   unsafe detection  a response is flagged unsafe when sigmoid(score) < threshold (Llama 2: 0.15);
//                     precision and recall against the responses' safety labels, where they exist;
//                     and, whatever the threshold, the AUROC: P(score of an unsafe response < score of a
//                     safe one), ties counted one half (the Mann-Whitney U over n_unsafe * n_safe), which
//                     does not move when every score shifts, as the ranking loss lets it
import Foundation
import PlumbData

/// One held-out comparison with its two scores.
public struct ScoredComparison: Sendable {
    public var comparison: Comparison
    public var source: String
    public var chosenScore: Float
    public var rejectedScore: Float
    public init(comparison: Comparison, source: String, chosenScore: Float, rejectedScore: Float) {
        self.comparison = comparison
        self.source = source
        self.chosenScore = chosenScore
        self.rejectedScore = rejectedScore
    }
}

/// Correct out of total.
public struct AccuracyCount: Codable, Equatable, Sendable {
    public var correct: Double = 0
    public var total: Int = 0
    public var accuracy: Double { total > 0 ? correct / Double(total) : .nan }
}

public struct ScoreStatistics: Codable, Equatable, Sendable {
    public var count: Int
    public var mean: Double
    public var std: Double
    public var min: Double
    public var max: Double
    /// Quantile q -> value, by linear interpolation between order statistics.
    public var quantiles: [Double: Double]
    public static let levels: [Double] = [0.05, 0.25, 0.5, 0.75, 0.95]
}

public struct UnsafeDetection: Codable, Equatable, Sendable {
    public let threshold: Double
    /// Responses with a safety label.
    public let labelled: Int
    public let truePositives: Int
    public let falsePositives: Int
    public let falseNegatives: Int
    /// P(score_unsafe < score_safe) + P(tie) / 2 over labelled responses; NaN without both labels.
    public let auroc: Double
    public var precision: Double { truePositives + falsePositives > 0 ? Double(truePositives) / Double(truePositives + falsePositives) : .nan }
    public var recall: Double { truePositives + falseNegatives > 0 ? Double(truePositives) / Double(truePositives + falseNegatives) : .nan }
    /// Share of labelled responses that are unsafe.
    public var unsafeShare: Double { labelled > 0 ? Double(truePositives + falseNegatives) / Double(labelled) : .nan }

    /// The figures over the responses that carry a safety label: positive class = unsafe (label
    /// false), predicted when sigmoid(score) < threshold.
    public init(threshold: Double, labelled responses: [(score: Float, safe: Bool)]) {
        self.threshold = threshold
        labelled = responses.count
        let flagged = responses.map { 1 / (1 + exp(-Double($0.score))) < threshold }
        truePositives = zip(flagged, responses).filter { $0 && !$1.safe }.count
        falsePositives = zip(flagged, responses).filter { $0 && $1.safe }.count
        falseNegatives = zip(flagged, responses).filter { !$0 && !$1.safe }.count
        auroc = Self.auroc(responses)
    }
}

public struct RewardEvaluation: StageSummary {
    public var overall = AccuracyCount()
    public var byStrength: [String: AccuracyCount] = [:]
    public var bySource: [String: AccuracyCount] = [:]
    public var byDimension: [String: AccuracyCount] = [:]
    /// By how the judges of an aggregated multi-annotator pair agreed (`unanimous`,
    /// `no_opposing_vote`, `split`; VoteAggregator.agreement); pairs judged once are left out.
    public var byAgreement: [String: AccuracyCount] = [:]
    /// Keyed "<dimension>.<strength>": each reward model's accuracy by strength on its own dimension.
    public var byDimensionStrength: [String: AccuracyCount] = [:]
    /// Per tag of the prompt (a comparison counts once under each of its tags).
    public var byTag: [String: AccuracyCount] = [:]
    /// Keyed "<dimension>.<tag>".
    public var byDimensionTag: [String: AccuracyCount] = [:]
    public var preferShorter = AccuracyCount()
    public var preferLonger = AccuracyCount()
    public var scores: ScoreStatistics
    public var unsafe: UnsafeDetection

    /// The strength's name as it appears in tables: a Llama 2 level, `margin`, or `unspecified`.
    public static func strengthName(_ s: PreferenceStrength?) -> String {
        switch s {
        case .level(let level): return level.rawValue
        case .margin: return "margin"
        case nil: return "unspecified"
        }
    }

    /// `gateResponses`, when given, replace the comparisons' labelled responses for the unsafe gate
    /// (labelled single responses: `rm eval --labelled`).
    public init(_ scored: [ScoredComparison], unsafeThreshold: Double = 0.15, gateResponses: [(score: Float, safe: Bool)]? = nil) {
        scores = RewardEvaluation.statistics(scored.flatMap { [Double($0.chosenScore), Double($0.rejectedScore)] })
        var labelled: [(score: Float, safe: Bool)] = []
        for s in scored {
            let c = s.comparison
            let hit: Double = s.chosenScore > s.rejectedScore ? 1 : 0
            overall.add(hit)
            byStrength[RewardEvaluation.strengthName(c.strength), default: AccuracyCount()].add(hit)
            bySource[s.source, default: AccuracyCount()].add(hit)
            if let agreement = VoteAggregator.agreement(c) { byAgreement[agreement, default: AccuracyCount()].add(hit) }
            byDimension[c.dimension.rawValue, default: AccuracyCount()].add(hit)
            byDimensionStrength[c.dimension.rawValue + "." + RewardEvaluation.strengthName(c.strength), default: AccuracyCount()].add(hit)
            for tag in Set(c.prompt.tags) {
                byTag[tag, default: AccuracyCount()].add(hit)
                byDimensionTag[c.dimension.rawValue + "." + tag, default: AccuracyCount()].add(hit)
            }
            let (lc, lr) = (c.chosen.count, c.rejected.count)
            preferShorter.add(lc == lr ? 0.5 : (lc < lr ? 1 : 0))
            preferLonger.add(lc == lr ? 0.5 : (lc > lr ? 1 : 0))
            for (score, safe) in [(s.chosenScore, c.chosenSafe), (s.rejectedScore, c.rejectedSafe)] {
                if let safe { labelled.append((score, safe)) }
            }
        }
        unsafe = UnsafeDetection(threshold: unsafeThreshold, labelled: gateResponses ?? labelled)
    }

    static func statistics(_ values: [Double]) -> ScoreStatistics {
        guard !values.isEmpty else { return ScoreStatistics(count: 0, mean: .nan, std: .nan, min: .nan, max: .nan, quantiles: [:]) }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let sorted = values.sorted()
        var quantiles: [Double: Double] = [:]
        for q in ScoreStatistics.levels {
            let position = q * (n - 1), lower = Int(position.rounded(.down)), upper = Swift.min(lower + 1, sorted.count - 1)
            quantiles[q] = sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        }
        return ScoreStatistics(count: values.count, mean: mean, std: variance.squareRoot(), min: sorted[0], max: sorted[sorted.count - 1],
                               quantiles: quantiles)
    }

    /// Flat figures for a manifest's metrics (NaN figures, e.g. recall without labels, are left out).
    public var metrics: [String: Double] {
        var m: [String: Double] = ["accuracy": overall.accuracy, "pairs": Double(overall.total),
                                   "baseline.prefer_shorter": preferShorter.accuracy, "baseline.prefer_longer": preferLonger.accuracy,
                                   "score.mean": scores.mean, "score.std": scores.std, "score.min": scores.min, "score.max": scores.max,
                                   "unsafe.threshold": unsafe.threshold, "unsafe.labelled": Double(unsafe.labelled),
                                   "unsafe.precision": unsafe.precision, "unsafe.recall": unsafe.recall,
                                   "unsafe.share": unsafe.unsafeShare, "unsafe.auroc": unsafe.auroc]
        for (q, v) in scores.quantiles { m[String(format: "score.p%02d", Int((q * 100).rounded()))] = v }
        for (group, counts) in [("strength", byStrength), ("source", bySource), ("dimension", byDimension), ("dimension_strength", byDimensionStrength), ("agreement", byAgreement), ("tag", byTag), ("dimension_tag", byDimensionTag)] {
            for (key, c) in counts {
                m["accuracy.\(group).\(key)"] = c.accuracy
                m["pairs.\(group).\(key)"] = Double(c.total)
            }
        }
        return m.filter { $0.value.isFinite }
    }
}

extension AccuracyCount {
    mutating func add(_ hit: Double) { correct += hit; total += 1 }
}

extension UnsafeDetection {
    /// The AUROC from ranks: sort by score, give tied scores their average rank (1-based), then
    /// U = (sum of the safe responses' ranks) - n_s (n_s + 1) / 2 counts the (unsafe, safe) pairs
    /// ordered unsafe below safe, ties one half; AUROC = U / (n_u n_s).
    static func auroc(_ labelled: [(score: Float, safe: Bool)]) -> Double {
        let safeCount = labelled.filter(\.safe).count, unsafeCount = labelled.count - safeCount
        guard safeCount > 0, unsafeCount > 0 else { return .nan }
        let sorted = labelled.sorted { $0.score < $1.score }
        var safeRankSum = 0.0
        var start = 0
        while start < sorted.count {
            var end = start
            while end + 1 < sorted.count && sorted[end + 1].score == sorted[start].score { end += 1 }
            let averageRank = Double(start + end) / 2 + 1
            safeRankSum += averageRank * Double(sorted[start...end].filter(\.safe).count)
            start = end + 1
        }
        let u = safeRankSum - Double(safeCount) * Double(safeCount + 1) / 2
        return u / (Double(safeCount) * Double(unsafeCount))
    }
}
