// Thin wrappers over POSIX file calls: read, write-all, fsync, and the atomic-write recipe
// (temporary name, fsync, rename, fsync the directory).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor with errors that name the path.
public final class PosixFile {
    public let path: String
    private(set) var fd: Int32

    public init(readingFrom url: URL) throws {
        path = url.path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw StoreError.io(path: path, operation: "open", errno: errno) }
    }

    /// Creates (or truncates) `url` for writing.
    public init(creating url: URL) throws {
        path = url.path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw StoreError.io(path: path, operation: "create", errno: errno) }
    }

    deinit { close() }

    /// Reads up to `buffer.count` bytes; returns 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw StoreError.io(path: path, operation: "read", errno: errno) }
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: path, operation: "write", errno: errno)
            }
            offset += n
        }
    }

    public func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }

    public func sync() throws {
        if fsync(fd) != 0 { throw StoreError.io(path: path, operation: "fsync", errno: errno) }
    }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }
}

/// Atomic file operations: a reader sees the old file or the new one, never half of one.
public enum AtomicFile {
    /// Writes `data` to `url`: temporary name in the same directory, fsync, rename, fsync the directory.
    public static func write(_ data: Data, to url: URL) throws {
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let file = try PosixFile(creating: temp)
        do {
            try file.write(data)
            try file.sync()
            file.close()
            try rename(temp, to: url)
        } catch {
            file.close()
            unlink(temp.path)
            throw error
        }
    }

    /// Renames `from` to `to` (atomic within one file system) and fsyncs the directory of `to`.
    public static func rename(_ from: URL, to: URL) throws {
        if Glibc.rename(from.path, to.path) != 0 {
            throw StoreError.io(path: to.path, operation: "rename from \(from.lastPathComponent)", errno: errno)
        }
        try syncDirectory(to.deletingLastPathComponent())
    }

    /// fsyncs a directory so that renames and creations in it survive a crash.
    public static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw StoreError.io(path: url.path, operation: "open directory", errno: errno) }
        defer { Glibc.close(fd) }
        if fsync(fd) != 0 { throw StoreError.io(path: url.path, operation: "fsync directory", errno: errno) }
    }

    /// Creates `url` and its parents if missing.
    public static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw StoreError.io(path: url.path, operation: "create directory", errno: EIO)
        }
    }
}
