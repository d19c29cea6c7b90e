// The identity of a package's code by its bytes: the SHA-256 of `Package.swift` and every file under
// `Sources/`, by relative path. The build embeds it in the `plumb` binary (Plugins/EmbedBuildInfo),
// and CodeVersion probes it from the tree on disk where no binary carries one (tests, libraries).
import Foundation

public enum SourceTree {
    /// The files that make the hash, relative to `root`, sorted: `Package.swift` and every regular
    /// file under `Sources/` (hidden names skipped). Throws when `root` has no `Package.swift` or no `Sources/`.
    public static func files(_ root: URL) throws -> [String] {
        let fm = FileManager.default
        let sources = root.appendingPathComponent("Sources")
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.appendingPathComponent("Package.swift").path),
              fm.fileExists(atPath: sources.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileError(path: root.path, operation: "find Package.swift and Sources/ to hash", errno: ENOENT)
        }
        var files = ["Package.swift"]
        guard let walker = fm.enumerator(at: sources, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            throw FileError(path: sources.path, operation: "list directory", errno: EIO)
        }
        let prefix = root.standardizedFileURL.path + "/"
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            files.append(String(url.standardizedFileURL.path.dropFirst(prefix.count)))
        }
        return files.sorted()
    }

    /// SHA-256 over the tree's `files`: for each in order of relative path, the path, its size and
    /// its SHA-256, one line each, after a version line.
    public static func hash(_ root: URL) throws -> String {
        var text = "plumb-sources/1\n"
        for file in try files(root) {
            let url = root.appendingPathComponent(file)
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            text += "\(file)\n\(size) \(try SHA256.hex(ofFile: url))\n"
        }
        return SHA256.hex(of: Data(text.utf8))
    }
}
