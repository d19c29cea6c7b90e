// The lock of a run directory: `runs/<run>/.lock`, held with flock(2) for the life of the writer and
// naming its holder (pid, host, start time). A second writer is refused with the holder's name. The
// kernel drops a flock when its process dies, so a lock file left by a killed writer is stale: the
// next writer takes it over and says so.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct LockHolder: Codable, Equatable, Sendable, CustomStringConvertible {
    public var pid: Int32
    public var host: String
    public var startedAt: String
    public var description: String { "pid \(pid) on \(host), since \(startedAt)" }

    static func current() -> LockHolder {
        LockHolder(pid: getpid(), host: ProcessInfo.processInfo.hostName, startedAt: isoTimestamp())
    }
}

public final class RunLock {
    public let url: URL
    public let holder: LockHolder
    /// The stale holder this lock replaced, if any (a writer that died without releasing).
    public let brokeStaleHolder: LockHolder?
    private var fd: Int32

    /// Takes the lock of `runDirectory`, or throws `StoreError.locked` naming the holder.
    public init(runDirectory: URL) throws {
        try AtomicFile.makeDirectory(runDirectory)
        url = runDirectory.appendingPathComponent(".lock")
        while true {
            let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 { throw StoreError.io(path: url.path, operation: "open lock", errno: errno) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let previous = RunLock.readHolder(fd)
                Glibc.close(fd)
                if code == EWOULDBLOCK {
                    throw StoreError.locked(path: runDirectory.path, holder: previous?.description ?? "another process (lock file unreadable)")
                }
                throw StoreError.io(path: url.path, operation: "flock", errno: code)
            }
            // The file may have been unlinked by its previous holder between our open and flock: retry.
            var opened = stat(), named = stat()
            if fstat(fd, &opened) != 0 || stat(url.path, &named) != 0 || opened.st_ino != named.st_ino {
                Glibc.close(fd)
                continue
            }
            self.fd = fd
            break
        }
        brokeStaleHolder = RunLock.readHolder(fd)
        holder = LockHolder.current()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(holder)) ?? Data()
        _ = ftruncate(fd, 0)
        _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = fsync(fd)
    }

    deinit { release() }

    /// Removes the lock file and releases the lock (idempotent).
    public func release() {
        guard fd >= 0 else { return }
        unlink(url.path)
        Glibc.close(fd)
        fd = -1
    }

    public enum Probe: Equatable {
        /// No lock file.
        case free
        /// A live process holds it.
        case held(LockHolder?)
        /// A lock file whose holder is gone (killed before releasing).
        case stale(LockHolder?)
    }

    /// Looks at the lock of `runDirectory` without taking it (a shared flock probe, dropped at once).
    public static func probe(runDirectory: URL) -> Probe {
        let path = runDirectory.appendingPathComponent(".lock").path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .free }
        defer { Glibc.close(fd) }
        let holder = readHolder(fd)
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return .held(holder) }
        flock(fd, LOCK_UN)
        return .stale(holder)
    }

    private static func readHolder(_ fd: Int32) -> LockHolder? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return try? JSONDecoder().decode(LockHolder.self, from: Data(buffer[0..<n]))
    }
}

/// Now, as ISO 8601 UTC with milliseconds.
func isoTimestamp(_ date: Date = Date()) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}
