// Weights that decoding streams on every step (15m: 61 MB per token) are read through the TLB one
// 4 KB page at a time unless the kernel backs them with 2 MB pages. `MatVec.preferHugePages` asks
// Linux to do so for a storage that is already filled: MADV_HUGEPAGE marks the range, MADV_COLLAPSE
// (Linux 6.1) moves it onto huge pages now rather than whenever khugepaged gets to it. Best effort:
// nothing changes where the calls are refused (older kernels, THP disabled) or on other systems.
// What it gains is in docs/model.md ("Decoding speed").
#if os(Linux)
import Glibc
#endif

extension MatVec {
    /// Asks for the 2 MB-aligned part of `storage` to be backed by huge pages; returns whether the
    /// kernel accepted (false where unsupported).
    @discardableResult
    public static func preferHugePages(_ storage: TensorStorage) -> Bool {
        preferHugePages(UnsafeRawPointer(storage.base), byteCount: storage.count * MemoryLayout<Float>.stride)
    }

    /// The same for `byteCount` bytes from `base` (8-bit weights).
    @discardableResult
    public static func preferHugePages(_ base: UnsafeRawPointer, byteCount: Int) -> Bool {
        #if os(Linux)
        let hugePage = 1 << 21
        let first = (Int(bitPattern: base) + hugePage - 1) / hugePage * hugePage
        let last = (Int(bitPattern: base) + byteCount) / hugePage * hugePage
        guard last > first, let start = UnsafeMutableRawPointer(bitPattern: first) else { return false }
        let madviseHugePage: Int32 = 14, madviseCollapse: Int32 = 25   // <linux/mman.h>
        guard madvise(start, last - first, madviseHugePage) == 0 else { return false }
        return madvise(start, last - first, madviseCollapse) == 0
        #else
        return false
        #endif
    }
}
