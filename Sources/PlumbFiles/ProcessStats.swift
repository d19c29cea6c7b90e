// Process-level measurements for the benchmarks of every library: peak resident memory, wall clock,
// CPU seconds, the load average, and the error a benchmark stops with.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Peak resident set size of this process in bytes (Linux `VmHWM` in /proc/self/status), or nil.
public func peakRSSBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    return vmHWMBytes(status: text)
}

/// `VmHWM` of a /proc/PID/status text in bytes. The kernel writes "VmHWM:\t" and the kB figure
/// right-aligned in 8 characters, so from 10,000,000 kB on no space separates the two: fields are
/// split at tabs and spaces both.
public func vmHWMBytes(status text: String) -> Int? {
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
    }
    return nil
}

/// Monotonic seconds, for timing.
@inline(__always) public func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// The 1-minute load average, to put beside timings taken on a shared machine (-1 when unknown).
public func loadAverageOneMinute() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? loads[0] : -1
}

/// /proc/loadavg's first three fields ("1.02 0.87 0.60"), or "" where there is none.
public func loadAverageText() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? ""
}

/// The median of `values` (the mean of the middle two for an even count); nan for none.
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Why a benchmark could not run: what went wrong, and what to do next.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let message: String
    public let hint: String?
    public init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }
    public var description: String { hint.map { "\(message)\nHINT: \($0)" } ?? message }
}
