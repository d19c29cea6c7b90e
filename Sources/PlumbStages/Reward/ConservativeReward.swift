// Conservative rewards from an ensemble of reward models (Coste et al. 2023, "Reward Model Ensembles
// Help Mitigate Overoptimization"). Each of the N members' raw scores r_i is first put on one scale,
// z_i = (r_i - mu_i) / sigma_i (RewardEnsemble: mu_i, sigma_i measured on the member's validation
// responses), then one rule reduces the z_i:
//
//   mean                      R = mean_i z_i
//   mean - lambda * std       R = mean_i z_i - lambda * sqrt(1/N sum_i (z_i - mean)^2)
//   worst (WCO)               R = min_i z_i
//   uncertainty-weighted (UWO) R = mean_i z_i - lambda * 1/N sum_i (z_i - mean)^2
//
// The spread is the population one (1/N), as in Coste et al.'s intra-ensemble variance. Every rule
// is a function of one response's member scores alone, so a conservative score is as batch-invariant
// as its members' scores (SequenceForward).
import Foundation

public enum ConservativeRule: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    case mean
    case meanMinusStd(lambda: Double)
    case worst
    case uncertaintyWeighted(lambda: Double)

    /// The rule applied to one response's normalised member scores z (N >= 1, all finite).
    public func reduce(_ z: [Double]) -> Double {
        precondition(!z.isEmpty, "a conservative rule needs at least one member score")
        let n = Double(z.count)
        var sum = 0.0
        for v in z { sum += v }
        let mean = sum / n
        var squares = 0.0
        for v in z { squares += (v - mean) * (v - mean) }
        let variance = squares / n
        switch self {
        case .mean: return mean
        case .meanMinusStd(let lambda): return mean - lambda * variance.squareRoot()
        case .worst: return z.min()!
        case .uncertaintyWeighted(let lambda): return mean - lambda * variance
        }
    }

    /// Parses `mean`, `mean-minus-std:LAMBDA`, `worst` or `uncertainty-weighted:LAMBDA` (lambda >= 0).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        func lambda() throws -> Double {
            guard parts.count == 2, let value = Double(parts[1]), value.isFinite, value >= 0 else {
                throw StageError("conservative reward '\(text)': \(name) needs a lambda >= 0, as \(name):1")
            }
            return value
        }
        switch name {
        case "mean" where parts.count == 1: self = .mean
        case "worst" where parts.count == 1: self = .worst
        case "mean-minus-std": self = .meanMinusStd(lambda: try lambda())
        case "uncertainty-weighted": self = .uncertaintyWeighted(lambda: try lambda())
        default:
            throw StageError("conservative reward '\(text)': expected mean, mean-minus-std:LAMBDA, worst or uncertainty-weighted:LAMBDA")
        }
    }

    public var description: String {
        switch self {
        case .mean: return "mean"
        case .meanMinusStd(let lambda): return "mean-minus-std:\(lambda)"
        case .worst: return "worst"
        case .uncertaintyWeighted(let lambda): return "uncertainty-weighted:\(lambda)"
        }
    }

    // Stored as its text form (`mean-minus-std:1.0`) in stage configs and pipeline files.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch let error as StageError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
