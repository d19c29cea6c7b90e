// The CPU's feature flags as Linux reports them (the `flags` line of /proc/cpuinfo), read once. Used
// to choose OpenBLAS's kernel family and whether the decoding kernel may run its AVX-512 build.
import Foundation

public enum CPUFlags {
    /// The `flags` line's value ("fpu vme ... avx2 ..."), or nil where there is no /proc/cpuinfo.
    public static let line: String? = {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        return String(line.drop { $0 != ":" }.dropFirst())
    }()

    /// The flags as a set (empty where unknown).
    public static let current: Set<String> = Set((line ?? "").split(separator: " ").map(String.init))
}
