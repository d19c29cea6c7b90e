// Atomic file writes: write a temporary file beside the target, fsync it, rename over the target.
// A reader never sees a half-written checkpoint.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum AtomicFile {
    /// Writes `chunks` in order to `url` atomically.
    static func write(_ chunks: [Data], to url: URL) throws {
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError("\(tmp.path): cannot create (errno \(errno))") }
        var ok = true
        for chunk in chunks where ok {
            chunk.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                    if n <= 0 { ok = false; return }
                    done += n
                }
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp.path, url.path) == 0 else {
            unlink(tmp.path)
            throw CheckpointError("\(url.path): write failed (errno \(errno)); check free space and permissions")
        }
    }
}
