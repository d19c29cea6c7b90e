// Debian's OpenBLAS 0.3.21 does not recognise recent AVX-512 Xeons and falls back to its SSE3
// "Prescott" kernels (sgemm 52 against 306 GFLOP/s on a 2-core VM: docs/engine.md). OpenBLAS reads
// OPENBLAS_CORETYPE when the library loads, before `main`, so when it is unset `plumb` names the
// kernel family the CPU's flags support and executes itself again with it set (once: the variable
// is then set). Setting OPENBLAS_CORETYPE yourself, to any value, keeps your choice.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum OpenBLASKernels {
    /// The kernel family for the flags line of /proc/cpuinfo, or nil to leave OpenBLAS's choice.
    static func family(cpuFlags: String) -> String? {
        let flags = Set(cpuFlags.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Executes this program again with OPENBLAS_CORETYPE set, when it is unset and a family is known.
    public static func reexecIfUnset() {
        #if os(Linux)
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let family = family(cpuFlags: String(line.drop { $0 != ":" }.dropFirst())) else { return }
        setenv("OPENBLAS_CORETYPE", family, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: go on with OpenBLAS's own choice.
        #endif
    }
}
