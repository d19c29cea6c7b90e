// Threading policy: OpenBLAS uses one thread per core and is called from one thread at a time;
// everything else runs on ThreadPool.shared: large non-BLAS kernels split their rows across the
// cores, and many small independent products (attention heads) run side by side, each with
// single-threaded BLAS (`ThreadPool.withSingleThreadedBLAS`).
import CBLAS
import Foundation

public enum EngineThreads {
    /// Number of cores this process may use: the online cores, or fewer when the process's CPU
    /// affinity allows fewer (`taskset -c 0`, `mpirun --bind-to core`), so a process bound to one
    /// core runs one OpenBLAS thread and one pool thread instead of several on that core.
    public static let cores: Int = {
        let online = max(1, ProcessInfo.processInfo.activeProcessorCount)
        return min(online, allowedCores() ?? online)
    }()

    /// The cores in this process's affinity mask (Linux: the `Cpus_allowed` hex mask of
    /// /proc/self/status, as `sched_getaffinity` gives it); nil where unknown.
    static func allowedCores() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        let hex = line.dropFirst("Cpus_allowed:".count).filter(\.isHexDigit)
        let count = hex.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
        return count > 0 ? count : nil
    }

    /// Sets OpenBLAS's thread count to the core count, once; every BLAS entry point calls this.
    public static func configureBLAS() { _ = blasConfigured }

    private static let blasConfigured: Bool = {
        openblas_set_num_threads(Int32(cores))
        return true
    }()

    /// Runs `body` over `0..<rows` split into contiguous chunks, one per core, on ThreadPool.shared
    /// when the work (`rows * costPerRow` multiply-adds) is large enough to pay for the threads; else
    /// inline. The chunks depend only on `rows` and the core count, never on which thread runs them.
    /// `body` must only write rows of its own range and must not call BLAS.
    @inline(__always)
    public static func forEachRowChunk(rows: Int, costPerRow: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(cores, rows)
        if chunks <= 1 || rows * costPerRow < 1 << 16 {
            body(0..<rows)
            return
        }
        ThreadPool.shared.forEach(chunks: chunks) { c, _ in
            let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
            body(lo..<hi)
        }
    }
}
