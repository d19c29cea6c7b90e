// Which comparisons a reward model trains on: a mixture with a weight per (source stage, dimension).
//
// Llama 2 (§3.2.2): the safety model trains on all safety data plus helpfulness data at 90/10; the
// helpfulness model on all helpfulness data plus an equal part of safety data. Here:
//   - every comparison belongs to the most specific component matching its input stage and
//     dimension (a named stage beats `*`, which pools all stages); none matching: left out;
//   - weights are shares of the mixture. The components of the trained dimension set the scale:
//     k = min over them of (available / weight), so the scarcest of them is taken whole (with the
//     default pooled weights: all of that dimension's data); every component takes
//     min(available, round(k * weight)) comparisons, and a shortfall is reported, not hidden;
//   - which comparisons a component takes is a seeded shuffle: same seed and inputs, same mixture.
import PlumbData
import PlumbTensor

/// One component's weight. `source` is an input stage's directory name, or `*` for all of them.
public struct MixtureWeight: Codable, Equatable, Sendable {
    public static let anySource = "*"
    public var source: String
    public var dimension: PreferenceDimension
    public var weight: Double

    public init(source: String = MixtureWeight.anySource, dimension: PreferenceDimension, weight: Double) {
        self.source = source
        self.dimension = dimension
        self.weight = weight
    }
}

/// What a component held and what the mixture took from it.
public struct MixtureComponentReport: Codable, Equatable, Sendable {
    public var source: String
    public var dimension: PreferenceDimension
    public var weight: Double
    public var available: Int
    public var taken: Int
}

public struct RewardMixture: Codable, Equatable, Sendable {
    public var weights: [MixtureWeight]

    public init(weights: [MixtureWeight]) { self.weights = weights }

    /// Llama 2's mixture for a model of `dimension`.
    public static func llama2(for dimension: PreferenceDimension) -> RewardMixture {
        switch dimension {
        case .safety: return RewardMixture(weights: [.init(dimension: .safety, weight: 0.9), .init(dimension: .helpfulness, weight: 0.1)])
        case .helpfulness: return RewardMixture(weights: [.init(dimension: .helpfulness, weight: 0.5), .init(dimension: .safety, weight: 0.5)])
        }
    }

    public func validate() throws {
        if let bad = weights.first(where: { !($0.weight >= 0) || !$0.weight.isFinite }) {
            throw StageError("mixture weight \(bad.source):\(bad.dimension.rawValue)=\(bad.weight) must be a finite number >= 0")
        }
    }

    /// The indices of `records` (each with the name of its input stage) that form the mixture for a
    /// model of `dimension`, in input order, and a report per component.
    public func select(_ records: [(source: String, dimension: PreferenceDimension)], for dimension: PreferenceDimension,
                       seed: UInt64) throws -> (indices: [Int], report: [MixtureComponentReport]) {
        try validate()
        var members = [[Int]](repeating: [], count: weights.count)
        for (i, r) in records.enumerated() {
            if let c = component(source: r.source, dimension: r.dimension) { members[c].append(i) }
        }
        let target = weights.indices.filter { weights[$0].dimension == dimension && weights[$0].weight > 0 && !members[$0].isEmpty }
        guard let k = target.map({ Double(members[$0].count) / weights[$0].weight }).min() else {
            throw StageError("reward mixture: no \(dimension.rawValue) comparisons with a positive weight in the inputs "
                + "(import them with --dimension \(dimension.rawValue), or check the mixture weights)")
        }
        var chosen: [Int] = []
        var report: [MixtureComponentReport] = []
        for (c, w) in weights.enumerated() {
            let want = Int((k * w.weight).rounded())
            let take = min(members[c].count, want)
            var pool = members[c]
            var rng = SeededRNG(seed: seed &+ 0xA24B_AED4_963E_E407 &* UInt64(c + 1))
            pool.shuffle(using: &rng)
            chosen += pool.prefix(take)
            report.append(MixtureComponentReport(source: w.source, dimension: w.dimension, weight: w.weight,
                                                 available: members[c].count, taken: take))
        }
        return (chosen.sorted(), report)
    }

    /// The most specific component for a record: its own stage first, then `*`.
    func component(source: String, dimension: PreferenceDimension) -> Int? {
        weights.firstIndex { $0.source == source && $0.dimension == dimension }
            ?? weights.firstIndex { $0.source == MixtureWeight.anySource && $0.dimension == dimension }
    }
}
