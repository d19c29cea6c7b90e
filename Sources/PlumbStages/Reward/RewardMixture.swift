// Which comparisons a stage trains on: a mixture with a weight per (source stage, dimension), shared
// by reward models (`rm train --mix`) and DPO (`dpo --mix`).
//
// Llama 2 (§3.2.2): the safety model trains on all safety data plus helpfulness data at 90/10; the
// helpfulness model on all helpfulness data plus an equal part of safety data. Here:
//   - every comparison belongs to the most specific component matching its input stage and
//     dimension: its stage and dimension, its stage (both dimensions), `*` and its dimension, `*`
//     (a named stage beats `*`, a named dimension beats none); none matching: left out;
//   - weights are shares of the mixture. The scaling components set the scale (a reward model: those
//     of the trained dimension; DPO: all): k = min over them of (available / weight), so the
//     scarcest of them is taken whole (with the default pooled weights: all of that dimension's
//     data); every component takes min(available, round(k * weight)) comparisons, never one twice,
//     and a shortfall is reported, not hidden;
//   - which comparisons a component takes is a seeded shuffle: same seed and inputs, same mixture.
import PlumbData
import PlumbTensor

public struct RewardMixture: Codable, Equatable, Sendable {
    public var weights: [MixtureWeight]

    public init(weights: [MixtureWeight]) { self.weights = weights }

    /// The mixture of components written `SOURCE:DIMENSION=WEIGHT` (MixtureWeight.parse), checked;
    /// nil for none.
    public static func parse(_ texts: [String], requireDimension: Bool, option: String = "--mix") throws -> RewardMixture? {
        guard !texts.isEmpty else { return nil }
        let mixture = RewardMixture(weights: try texts.map { try MixtureWeight.parse($0, option: option, requireDimension: requireDimension) })
        try mixture.validate(option: option)
        return mixture
    }

    /// Llama 2's mixture for a model of `dimension`.
    public static func llama2(for dimension: PreferenceDimension) -> RewardMixture {
        switch dimension {
        case .safety: return RewardMixture(weights: [.init(dimension: .safety, weight: 0.9), .init(dimension: .helpfulness, weight: 0.1)])
        case .helpfulness: return RewardMixture(weights: [.init(dimension: .helpfulness, weight: 0.5), .init(dimension: .safety, weight: 0.5)])
        }
    }

    /// Every weight finite and >= 0, no component twice, and (given `sources`, the input stages'
    /// names) every named source one of them. Errors name `option` and the component as written.
    public func validate(sources: [String]? = nil, option: String = "--mix") throws {
        for w in weights { try w.validate(option: option) }
        for (i, w) in weights.enumerated() where weights[..<i].contains(where: { $0.source == w.source && $0.dimension == w.dimension }) {
            throw StageError("\(option) \(w.text): the component \(w.source)\(w.dimension.map { ":" + $0.rawValue } ?? "") is given twice")
        }
        if let sources, let bad = weights.first(where: { $0.source != MixtureWeight.anySource && !sources.contains($0.source) }) {
            throw StageError("\(option) \(bad.text): no --data stage is named '\(bad.source)' (the --data stages: "
                + "\(sources.joined(separator: ", ")); SOURCE is a stage's directory name or *)")
        }
    }

    /// A reward model's mixture: the components of `dimension` set the scale.
    public func select(_ records: [(source: String, dimension: PreferenceDimension)], for dimension: PreferenceDimension,
                       seed: UInt64) throws -> (indices: [Int], report: [MixtureComponentReport]) {
        guard let picked = try select(records, scaledBy: { $0.dimension == dimension }, seed: seed) else {
            throw StageError("reward mixture: no \(dimension.rawValue) comparisons with a positive weight in the inputs "
                + "(import them with --dimension \(dimension.rawValue), or check the mixture weights)")
        }
        return picked
    }

    /// The shared rule: the indices of `records` (each with the name of its input stage) that form the
    /// mixture, in input order, and a report per component; `scales` says which components set the
    /// scale k. nil when no scaling component has a positive weight and a comparison.
    public func select(_ records: [(source: String, dimension: PreferenceDimension)], scaledBy scales: (MixtureWeight) -> Bool,
                       seed: UInt64) throws -> (indices: [Int], report: [MixtureComponentReport])? {
        try validate()
        var members = [[Int]](repeating: [], count: weights.count)
        for (i, r) in records.enumerated() {
            if let c = component(source: r.source, dimension: r.dimension) { members[c].append(i) }
        }
        let target = weights.indices.filter { scales(weights[$0]) && weights[$0].weight > 0 && !members[$0].isEmpty }
        guard let k = target.map({ Double(members[$0].count) / weights[$0].weight }).min() else { return nil }
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

    /// The most specific component for a record: its stage before `*`, its dimension before none.
    func component(source: String, dimension: PreferenceDimension) -> Int? {
        for s in [source, MixtureWeight.anySource] {
            for d in [dimension, nil] {
                if let c = weights.firstIndex(where: { $0.source == s && $0.dimension == d }) { return c }
            }
        }
        return nil
    }
}
