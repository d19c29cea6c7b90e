// The one atomic-write helper of the project: write a temporary file beside the target, fsync it,
// rename it over the target, fsync the directory. A reader sees the old file or the new one, never
// half of one, and after a crash the rename is either on disk or not.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write([data], to: url)
    }

    /// Writes `chunks` in order to `url` atomically (a large file need not be joined in memory first).
    public static func write(_ chunks: [Data], to url: URL) throws {
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            let file = try PosixFile(creating: temp)
            for chunk in chunks { try file.write(chunk) }
            try file.sync()
            file.close()
            try rename(temp, to: url)
        } catch {
            unlink(temp.path)
            throw error
        }
    }

    /// Renames `from` to `to` (atomic within one file system; `to` may be a directory when it does
    /// not exist yet) and fsyncs the directory of `to`.
    public static func rename(_ from: URL, to: URL) throws {
        if Foundation.rename(from.path, to.path) != 0 {
            throw FileError(path: to.path, operation: "rename from \(from.lastPathComponent)", errno: errno)
        }
        try syncDirectory(to.deletingLastPathComponent())
    }

    /// fsyncs a directory so that renames and creations in it survive a crash.
    public static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw FileError(path: url.path, operation: "open directory", errno: errno) }
        defer { Foundation.close(fd) }
        if fsync(fd) != 0 { throw FileError(path: url.path, operation: "fsync directory", errno: errno) }
    }

    /// Creates `url` and its parents if missing.
    public static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: url.path, operation: "create directory", errno: EIO)
        }
    }
}
