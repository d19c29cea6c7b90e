// Timing a pipeline's steps: each step is timed and its peak resident memory measured (the kernel's
// high-water mark is reset before each step through /proc/self/clear_refs); complete steps are
// listed as skipped.
import Foundation
import PlumbFiles
import PlumbStore

public struct StepFigures: Codable, Sendable {
    public var step: String
    public var seconds: Double
    public var peakRSSBytes: Int?
    public var skipped: Bool
}

public final class MainJobSteps {
    public private(set) var figures: [StepFigures] = []
    /// Put before every step name (the month, in a run of several).
    public var prefix = ""

    public init() {}

    /// These steps, naming the steps recorded from now on with `prefix`.
    public func prefixed(_ prefix: String) -> MainJobSteps {
        self.prefix = prefix
        return self
    }

    /// Runs `body`, timing it and measuring its peak resident memory.
    public func run(_ name: String, _ body: () throws -> Void) throws {
        resetPeakRSS()
        let start = monotonicSeconds()
        try body()
        figures.append(StepFigures(step: prefix + name, seconds: monotonicSeconds() - start, peakRSSBytes: peakRSSBytes(), skipped: false))
    }

    /// Records a step that was already complete.
    public func skip(_ name: String) {
        figures.append(StepFigures(step: prefix + name, seconds: 0, peakRSSBytes: nil, skipped: true))
    }

    /// Resets VmHWM to the current RSS (Linux >= 4.0); harmless elsewhere.
    private func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    public func table() -> String {
        var lines = [pad("step", 34) + pad("wall", 10) + "peak RSS"]
        for f in figures {
            let wall = f.skipped ? "skipped" : String(format: "%.1f s", f.seconds)
            let rss = f.peakRSSBytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "-"
            lines.append(pad(f.step, 34) + pad(wall, 10) + rss)
        }
        let total = figures.reduce(0) { $0 + $1.seconds }
        lines.append(pad("total", 34) + String(format: "%.1f s", total))
        return lines.joined(separator: "\n")
    }
}
