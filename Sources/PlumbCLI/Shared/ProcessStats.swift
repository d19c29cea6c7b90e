// Process-level measurements for benchmarks: peak resident memory and wall clock.
import Foundation

/// Peak resident set size of this process in bytes (Linux `VmHWM` in /proc/self/status), or nil.
public func peakRSSBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
    }
    return nil
}

/// Monotonic seconds, for timing.
@inline(__always) public func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
