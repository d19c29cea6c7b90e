// Process-level measurements for benchmarks: peak resident memory and wall clock.
import Foundation

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
