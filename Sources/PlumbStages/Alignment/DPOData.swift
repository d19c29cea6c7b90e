// The comparisons a DPO stage trains and validates on: the `comparisons-train` /
// `comparisons-validation` sets of its --data stages (import stages, rs pairs), each comparison
// tagged with its stage's directory name; pairs with identical responses set aside (quarantined,
// nothing to learn); the rest mixed by `--mix` weights with the reward models' rule (RewardMixture:
// weights are shares, the scarcest weighted component taken whole, a seeded pick, never a
// comparison twice; every component sets the scale, as DPO trains one policy on both dimensions),
// the same rule for both splits; then encoded (DPOStage.encode). Without a mixture every usable
// comparison is taken once.
import Foundation
import PlumbData

struct DPOData {
    var train: DPOStage.Encoded
    var validation: DPOStage.Encoded
    /// Per mixture component: weight, available, taken (empty without a mixture).
    var trainMixture: [MixtureComponentReport] = []
    var validationMixture: [MixtureComponentReport] = []
    /// Comparisons per source stage after mixing, in the order of the --data stages.
    var trainSources: [(source: String, count: Int)] = []
    var validationSources: [(source: String, count: Int)] = []
    var files: [URL]

    static func load(_ p: DPOStage.Parameters, stages: [URL], templated: TemplatedTokenizer) throws -> DPOData {
        let names = SourcedComparisons.names(of: stages)
        let mixture = try p.mixture
        try mixture?.validate(sources: names)
        let train = try SourcedComparisons.read(output: "comparisons-train", from: stages)
        let validation = try SourcedComparisons.read(output: "comparisons-validation", from: stages)
        guard !train.records.isEmpty else {
            throw StageError("dpo: no comparisons-train records in \(stages.map(\.path).joined(separator: ", "))")
        }
        let (usableTrain, identicalTrain) = setAsideIdentical(train)
        let (usableValidation, identicalValidation) = setAsideIdentical(validation)
        guard !usableTrain.records.isEmpty else { throw StageError("dpo: every training comparison has identical chosen and rejected responses") }
        var trainPick = (indices: Array(usableTrain.records.indices), report: [MixtureComponentReport]())
        var validationPick = (indices: Array(usableValidation.records.indices), report: [MixtureComponentReport]())
        if let mixture {
            guard let picked = try mixture.select(usableTrain.keys, scaledBy: { _ in true }, seed: p.seed) else {
                throw StageError("dpo --mix \(mixture.weights.map(\.text).joined(separator: " ")): no comparisons-train record "
                    + "falls in a component with a positive weight (the --data stages: \(names.joined(separator: ", ")))")
            }
            trainPick = picked
            // No validation comparison in a weighted component: no validation figures, not an error.
            validationPick = try mixture.select(usableValidation.keys, scaledBy: { _ in true }, seed: p.seed ^ 0x7A11D) ?? ([], [])
        }
        var out = DPOData(train: try encode(usableTrain, trainPick.indices, identical: identicalTrain, templated: templated, seqLen: p.seqLen),
                          validation: try encode(usableValidation, validationPick.indices, identical: identicalValidation,
                                                 templated: templated, seqLen: p.seqLen),
                          files: train.files + validation.files)
        out.trainMixture = trainPick.report
        out.validationMixture = validationPick.report
        out.trainSources = counts(usableTrain, trainPick.indices, names: names)
        out.validationSources = counts(usableValidation, validationPick.indices, names: names)
        return out
    }

    /// The comparisons whose chosen and rejected responses differ, and those that do not.
    static func setAsideIdentical(_ all: SourcedComparisons) -> (usable: SourcedComparisons, identical: [Comparison]) {
        var usable = SourcedComparisons(), identical: [Comparison] = []
        for (c, source) in zip(all.records, all.sources) {
            if c.chosen == c.rejected { identical.append(c) } else { usable.records.append(c); usable.sources.append(source) }
        }
        usable.files = all.files
        return (usable, identical)
    }

    static func encode(_ set: SourcedComparisons, _ indices: [Int], identical: [Comparison], templated: TemplatedTokenizer,
                       seqLen: Int) throws -> DPOStage.Encoded {
        var encoded = try DPOStage.encode(indices.map { set.records[$0] }, templated: templated, seqLen: seqLen)
        encoded.identical = identical
        return encoded
    }

    static func counts(_ set: SourcedComparisons, _ indices: [Int], names: [String]) -> [(source: String, count: Int)] {
        var n: [String: Int] = [:]
        for i in indices { n[set.sources[i], default: 0] += 1 }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }.map { ($0, n[$0] ?? 0) }
    }

    /// One line per split for the log: `import-comparisons 36, rs 18` (and the mixture's weights).
    func summary(_ mixture: RewardMixture?) -> String {
        func line(_ c: [(source: String, count: Int)]) -> String { c.map { "\($0.source) \($0.count)" }.joined(separator: ", ") }
        let weights = mixture.map { " (--mix " + $0.weights.map(\.text).joined(separator: " ") + ")" } ?? ""
        return "dpo: pairs per source: train \(line(trainSources)); validation \(line(validationSources))\(weights)"
    }
}
