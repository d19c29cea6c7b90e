// Learning-rate schedules with linear warm-up, as nanoGPT / Llama 2 (METHODS.md section 2).
// Steps are 0-based: step s is the (s+1)-th update.
//   warm-up (s < W):   lr = peak * (s + 1) / W
//   after, with p = clamp((s - W) / max(1, S - W), 0, 1) and floor = peak * minRatio:
//     constant:  lr = peak
//     linear:    lr = peak - (peak - floor) * p
//     cosine:    lr = floor + (peak - floor) * (1 + cos(pi p)) / 2
import Foundation

public enum ScheduleKind: String, Codable, CaseIterable, Sendable {
    case constant
    case linear
    case cosine
}

public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public var kind: ScheduleKind
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    /// The floor as a fraction of the peak (0.1: decay to 10%).
    public var minRatio: Float

    public init(kind: ScheduleKind, peak: Float, warmupSteps: Int = 0, totalSteps: Int, minRatio: Float = 0) throws {
        guard peak >= 0, warmupSteps >= 0, totalSteps >= 0, (0...1).contains(minRatio) else {
            throw TensorError("LearningRateSchedule: need peak >= 0, steps >= 0, minRatio in [0, 1]; got peak \(peak), warm-up \(warmupSteps), total \(totalSteps), minRatio \(minRatio)")
        }
        self.kind = kind; self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.minRatio = minRatio
    }

    /// The learning rate for 0-based step `step`.
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let progress = min(1, max(0, Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))))
        let peak = Double(self.peak), floor = peak * Double(minRatio)
        switch kind {
        case .constant: return self.peak
        case .linear: return Float(peak - (peak - floor) * progress)
        case .cosine: return Float(floor + (peak - floor) * (1 + cos(Double.pi * progress)) / 2)
        }
    }
}
