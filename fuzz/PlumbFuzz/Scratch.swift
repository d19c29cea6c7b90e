// A private scratch directory for targets that read through files (one per process).
import Foundation

enum Scratch {
    static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("plumb-fuzz-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.directory) }
        return url
    }()

    /// Writes the input to `name` in the scratch directory and returns its URL.
    static func file(_ name: String, _ bytes: UnsafeRawBufferPointer) -> URL {
        let url = directory.appendingPathComponent(name)
        try! Data(bytes).write(to: url)
        return url
    }
}
