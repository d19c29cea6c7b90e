// The comparisons a reward-model stage trains and validates on: read from import stages
// (`comparisons-train`, `comparisons-validation`), each tagged with its stage's name for the
// mixture, mixed (RewardMixture, same rule for both splits), and encoded (RewardPairs).
import Foundation
import PlumbData

struct RewardData {
    var train: RewardPairSet
    var validation: RewardPairSet
    var trainMixture: [MixtureComponentReport]
    var validationMixture: [MixtureComponentReport]
    var files: [URL]

    static func load(_ p: RewardModelStage.Parameters, importStages: [URL], templated: TemplatedTokenizer) throws -> RewardData {
        var train = try SourcedComparisons.read(output: "comparisons-train", from: importStages)
        var validation = try SourcedComparisons.read(output: "comparisons-validation", from: importStages)
        if p.labelledPairs == true {
            train.append(try SourcedComparisons.labelledPairs(split: .train, from: importStages))
            validation.append(try SourcedComparisons.labelledPairs(split: .validation, from: importStages))
        }
        let mixture = try p.resolvedMixture
        try mixture.validate(sources: SourcedComparisons.names(of: importStages))
        if let bare = mixture.weights.first(where: { $0.dimension == nil }) {
            throw StageError("--mix \(bare.text): a reward model's mixture names a dimension per component (SOURCE:DIMENSION=WEIGHT)")
        }
        let pickedTrain = try mixture.select(train.keys, for: p.dimension, seed: p.seed)
        // A validation split without comparisons of the trained dimension means no validation
        // figures (reported as 0 validation pairs), not an error: small imports often lack one.
        let hasValidation = validation.records.contains { $0.dimension == p.dimension }
        let pickedValidation = hasValidation ? try mixture.select(validation.keys, for: p.dimension, seed: p.seed ^ 0x7A11D)
                                             : (indices: [], report: [])
        return RewardData(
            train: try RewardPairs.encode(pickedTrain.indices.map { train.records[$0] }, templated: templated, seqLen: p.seqLen, margins: try p.margins),
            validation: try RewardPairs.encode(pickedValidation.indices.map { validation.records[$0] }, templated: templated,
                                               seqLen: p.seqLen, margins: try p.margins),
            trainMixture: pickedTrain.report, validationMixture: pickedValidation.report,
            files: train.files + validation.files)
    }
}

/// Comparisons with the name of the stage each came from.
public struct SourcedComparisons {
    public var records: [Comparison] = []
    public var sources: [String] = []
    public var files: [URL] = []

    /// The source name of each stage: its directory's name.
    public static func names(of stages: [URL]) -> [String] { stages.map(sourceName) }

    static func sourceName(_ stage: URL) -> String { stage.standardizedFileURL.lastPathComponent }

    var keys: [(source: String, dimension: PreferenceDimension)] {
        records.indices.map { (sources[$0], records[$0].dimension) }
    }

    /// Safety comparisons from the labelled responses of `split` (`LabelledPairs`), per stage.
    public static func labelledPairs(split: Split, from stages: [URL]) throws -> SourcedComparisons {
        var out = SourcedComparisons()
        for stage in stages {
            let read = try StageRecordReader.read(LabelledResponse.self, output: "labelled-responses-\(split.rawValue)", from: [stage])
            let pairs = LabelledPairs.comparisons(from: read.records)
            out.records += pairs
            out.sources += Array(repeating: sourceName(stage), count: pairs.count)
            out.files += read.files
        }
        return out
    }

    mutating func append(_ other: SourcedComparisons) {
        records += other.records
        sources += other.sources
        files += other.files
    }

    /// Output set `output` of every stage (or shard path) in `stages`; the source of a record is
    /// the stage's directory name.
    public static func read(output: String, from stages: [URL]) throws -> SourcedComparisons {
        var out = SourcedComparisons()
        for stage in stages {
            let read = try StageRecordReader.read(Comparison.self, output: output, from: [stage])
            out.records += read.records
            out.sources += Array(repeating: sourceName(stage), count: read.records.count)
            out.files += read.files
        }
        return out
    }
}
