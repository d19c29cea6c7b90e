// Debian's OpenBLAS 0.3.21 does not recognise recent AVX-512 Xeons and falls back to its SSE3
// "Prescott" kernels (sgemm 52 against 306 GFLOP/s on a 2-core VM: docs/engine.md). OpenBLAS reads
// OPENBLAS_CORETYPE when the library loads, before `main`, so when it is unset `plumb` names the
// kernel family the CPU's flags support and executes itself again with it set (once: the variable
// is then set). A value you set is kept when it names a family this CPU can run; any other value
// stops `plumb` before any work, since OpenBLAS would silently ignore an unknown name and stop with
// an illegal instruction on a family the CPU cannot run.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum OpenBLASKernels {
    /// Kernel families of OpenBLAS's x86-64 dynamic build that plumb accepts, each with the
    /// /proc/cpuinfo flags it needs (`pni` is SSE3), from the oldest to the newest.
    static let families: [(name: String, flags: Set<String>)] = [
        ("Prescott", ["sse2", "pni"]),
        ("Core2", ["sse2", "pni", "ssse3"]),
        ("Nehalem", ["sse2", "pni", "ssse3", "sse4_1", "sse4_2"]),
        ("Sandybridge", ["sse2", "pni", "ssse3", "sse4_1", "sse4_2", "avx"]),
        ("Haswell", ["avx", "avx2", "fma"]),
        ("Zen", ["avx", "avx2", "fma"]),
        ("SkylakeX", ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]),
        ("Cooperlake", ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_bf16"]),
    ]

    /// The families a CPU with these flags can run, in the order of `families`.
    static func supported(cpuFlags: String) -> [String] {
        let flags = Set(cpuFlags.split(separator: " ").map(String.init))
        return families.filter { flags.isSuperset(of: $0.flags) }.map(\.name)
    }

    /// The kernel family for the flags line of /proc/cpuinfo, or nil to leave OpenBLAS's choice.
    static func family(cpuFlags: String) -> String? {
        let flags = Set(cpuFlags.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Why `value` of OPENBLAS_CORETYPE cannot be used on a CPU with these flags, or nil when it can
    /// (OpenBLAS compares names without regard to case).
    static func problem(coretype value: String, cpuFlags: String) -> String? {
        let supported = supported(cpuFlags: cpuFlags)
        if supported.contains(where: { $0.lowercased() == value.lowercased() }) { return nil }
        let known = families.contains { $0.name.lowercased() == value.lowercased() }
        return "OPENBLAS_CORETYPE=\(value) " + (known ? "is a kernel family this CPU cannot run" : "names no OpenBLAS kernel family plumb knows")
            + "; this CPU supports: \(supported.isEmpty ? "none of \(families.map(\.name).joined(separator: ", "))" : supported.joined(separator: ", "))."
            + " Unset it to let plumb choose\(family(cpuFlags: cpuFlags).map { " (\($0))" } ?? "")."
    }

    /// With OPENBLAS_CORETYPE unset, executes this program again with the family the CPU supports
    /// set; with it set, checks it and stops with a message naming the supported families when it
    /// cannot be used.
    public static func chooseOrCheck() {
        #if os(Linux)
        guard let flags = CPUFlags.line else { return }
        if let value = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }) {
            guard let problem = problem(coretype: value, cpuFlags: flags) else { return }
            FileHandle.standardError.write(Data("plumb: \(problem)\n".utf8))
            exit(2)
        }
        guard let family = family(cpuFlags: flags) else { return }
        setenv("OPENBLAS_CORETYPE", family, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: go on with OpenBLAS's own choice.
        #endif
    }
}
