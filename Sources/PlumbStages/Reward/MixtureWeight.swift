// One component of a comparison mixture (RewardMixture) and its command-line form, shared by
// `plumb rm train --mix` and `plumb dpo --mix`:
//   SOURCE:DIMENSION=WEIGHT   the comparisons of one dimension from SOURCE
//   SOURCE=WEIGHT             all of SOURCE's comparisons, both dimensions (DPO only: a reward model
//                             is of one dimension, so its components name one)
// SOURCE is an input stage's directory name, or `*` for all of them.
import PlumbData

/// One component's weight. `dimension` nil: both dimensions.
public struct MixtureWeight: Codable, Equatable, Sendable {
    public static let anySource = "*"
    public var source: String
    public var dimension: PreferenceDimension?
    public var weight: Double

    public init(source: String = MixtureWeight.anySource, dimension: PreferenceDimension? = nil, weight: Double) {
        self.source = source
        self.dimension = dimension
        self.weight = weight
    }

    /// The component as written on the command line.
    public var text: String {
        let w = weight.isFinite && weight == weight.rounded() && abs(weight) < 1e15 ? String(Int64(weight)) : "\(weight)"
        return "\(source)\(dimension.map { ":" + $0.rawValue } ?? "")=\(w)"
    }

    /// Parses `SOURCE:DIMENSION=WEIGHT` (or `SOURCE=WEIGHT` unless `requireDimension`); errors name
    /// `option` and the text given.
    public static func parse(_ text: String, option: String = "--mix", requireDimension: Bool = false) throws -> MixtureWeight {
        let form = requireDimension ? "SOURCE:DIMENSION=WEIGHT" : "SOURCE=WEIGHT or SOURCE:DIMENSION=WEIGHT"
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw StageError("\(option) \(text): expected \(form) (SOURCE a --data stage's name or *, DIMENSION helpfulness or safety)")
        }
        let key = parts[0].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let source = key.first, !source.isEmpty else { throw StageError("\(option) \(text): SOURCE is empty; expected \(form)") }
        var dimension: PreferenceDimension?
        if key.count == 2 {
            guard let d = PreferenceDimension(rawValue: key[1]) else {
                throw StageError("\(option) \(text): unknown dimension '\(key[1])' (helpfulness or safety)")
            }
            dimension = d
        } else if requireDimension {
            throw StageError("\(option) \(text): a reward model's mixture names a dimension per component; expected \(form)")
        }
        guard let weight = Double(parts[1]) else { throw StageError("\(option) \(text): WEIGHT '\(parts[1])' is not a number") }
        let parsed = MixtureWeight(source: source, dimension: dimension, weight: weight)
        try parsed.validate(option: option)
        return parsed
    }

    /// A weight is a finite number >= 0 (0 leaves the component out).
    public func validate(option: String = "--mix") throws {
        guard weight >= 0, weight.isFinite else { throw StageError("\(option) \(text): the weight must be a finite number >= 0") }
    }
}

/// What a component held and what the mixture took from it.
public struct MixtureComponentReport: Codable, Equatable, Sendable {
    public var source: String
    public var dimension: PreferenceDimension?
    public var weight: Double
    public var available: Int
    public var taken: Int

    /// `SOURCE.DIMENSION`, or `SOURCE` for a component of both dimensions: the manifest's metric key.
    public var key: String { source + (dimension.map { "." + $0.rawValue } ?? "") }

    /// The manifest's figures of one split's mixture: `mixture.SPLIT.KEY.weight|available|taken`.
    public static func metrics(_ report: [MixtureComponentReport], split: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for c in report {
            let key = "mixture.\(split).\(c.key)"
            out[key + ".weight"] = c.weight
            out[key + ".available"] = Double(c.available)
            out[key + ".taken"] = Double(c.taken)
        }
        return out
    }
}
