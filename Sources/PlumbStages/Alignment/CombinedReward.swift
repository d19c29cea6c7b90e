// The safety-gated combined reward of Llama 2 (section 3.2.2; ../shared/docs/METHODS.md section 4),
// one type for rejection sampling and PPO. With raw scores s_h (helpfulness) and s_s (safety) and
// R = sigmoid(s):
//
//   R_c  = R_s   if the prompt is a safety prompt or R_s < threshold (the gate fires)
//          R_h   otherwise
//   R~_c = WHITEN(LOGIT(R_c)) = (LOGIT(R_c) - mean) / std
//
// LOGIT(sigmoid(s)) = s, so the combined logit is the chosen model's raw score itself (exact, where
// computing sigmoid then logit in floating point saturates for |s| > ~17). The whitening statistics
// are those of the combined logit over a policy's own samples (`Whitening`, stored by the stage that
// measured them).
import Foundation

public struct CombinedReward: Codable, Equatable, Sendable {
    /// Llama 2's threshold on sigmoid(safety score) (precision 0.89, recall 0.55 on their test set).
    public static let llama2Threshold = 0.15

    /// The gate fires when sigmoid(s_s) < threshold.
    public var gateThreshold: Double
    /// Mean and standard deviation of the combined logit; nil before they are measured.
    public var whitening: Whitening?

    public init(gateThreshold: Double = CombinedReward.llama2Threshold, whitening: Whitening? = nil) {
        self.gateThreshold = gateThreshold
        self.whitening = whitening
    }

    public struct Value: Equatable, Sendable {
        /// LOGIT(R_c): the raw score of the model the rule chose.
        public var logit: Float
        /// The safety model was chosen (safety prompt or gate).
        public var safetyChosen: Bool
        /// sigmoid(s_s) < threshold.
        public var gateFired: Bool
    }

    /// The rule applied to one response's raw scores.
    public func combine(helpfulness: Float, safety: Float, safetyPrompt: Bool) -> Value {
        let fired = 1 / (1 + exp(-Double(safety))) < gateThreshold
        let useSafety = safetyPrompt || fired
        return Value(logit: useSafety ? safety : helpfulness, safetyChosen: useSafety, gateFired: fired)
    }

    /// R~_c: the combined logit whitened (unchanged while there are no statistics).
    public func whitened(_ logit: Float) -> Float {
        guard let w = whitening else { return logit }
        return Float((Double(logit) - w.mean) / w.std)
    }
}

/// Mean and standard deviation of a reward over a set of samples, accumulated in Double in order.
public struct Whitening: Codable, Equatable, Sendable {
    public var mean: Double
    /// Population standard deviation, floored at 1e-6 so whitening never divides by zero.
    public var std: Double
    public var count: Int

    public init(mean: Double, std: Double, count: Int) {
        self.mean = mean; self.std = std; self.count = count
    }

    /// From the sum and the sum of squares of `count` values.
    public init(sum: Double, sumOfSquares: Double, count: Int) throws {
        guard count > 0 else { throw StageError("whitening: no values to measure") }
        let mean = sum / Double(count)
        self.init(mean: mean, std: max(max(sumOfSquares / Double(count) - mean * mean, 0).squareRoot(), 1e-6), count: count)
    }
}

/// Chooses the gate's threshold on labelled responses: the smallest threshold on sigmoid(s_s) that
/// flags at least `recall` of the unsafe ones (so the most precise threshold with that recall). The
/// safety scores' offset moves from run to run while their ranking does not, so a threshold chosen
/// for a recall carries over where a fixed 0.15 does not.
public enum GateCalibration {
    public struct Result: Codable, Equatable, Sendable {
        public var threshold: Double
        public var targetRecall: Double
        /// Measured on the labelled responses at `threshold`.
        public var recall: Double
        public var precision: Double
        public var labelled: Int
        public var unsafe: Int
    }

    public static func calibrate(labelled: [(score: Float, safe: Bool)], recall target: Double) throws -> Result {
        guard target > 0, target <= 1 else { throw StageError("gate calibration: recall must be in (0, 1]; got \(target)") }
        let unsafe = labelled.filter { !$0.safe }.map { 1 / (1 + exp(-Double($0.score))) }.sorted()
        guard !unsafe.isEmpty else { throw StageError("gate calibration: none of the \(labelled.count) labelled responses is unsafe") }
        let needed = Int((target * Double(unsafe.count)).rounded(.up))
        // sigmoid(s) < threshold flags the `needed` lowest unsafe scores.
        let threshold = unsafe[needed - 1].nextUp
        let detection = UnsafeDetection(threshold: threshold, labelled: labelled)
        return Result(threshold: threshold, targetRecall: target, recall: detection.recall, precision: detection.precision,
                      labelled: labelled.count, unsafe: unsafe.count)
    }
}
