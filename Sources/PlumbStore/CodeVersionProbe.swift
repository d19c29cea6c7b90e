// The code version of a manifest and of a stage's cache key. `content` identifies the code by its
// bytes: the SHA-256 of the package's source tree (every file under `Sources/` and `Package.swift`,
// by relative path), found from this file's compile-time path, so it is defined outside a git
// checkout, differs between two dirty trees, and is the same for the same sources wherever they are
// checked out. When that tree is not on disk, or a file of it is newer than the running executable
// (edited since the build, so the tree is not what runs), it is the SHA-256 of the executable
// instead. The build configuration is appended: debug and release builds round differently. The git
// commit and dirty flag are kept beside it for people. PLUMB_CODE_COMMIT / PLUMB_CODE_DIRTY /
// PLUMB_CODE_CONTENT override the probe.
import Foundation

extension CodeVersion {
    /// The package root at compile time: this file is `<root>/Sources/PlumbStore/CodeVersionProbe.swift`.
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    #if DEBUG
    static let buildConfiguration = "debug"
    #else
    static let buildConfiguration = "release"
    #endif

    private static let probed = probe(packageRoot)

    /// The code version of this process (probed once).
    public static func current() -> CodeVersion { probed }

    /// The code version of the package at `root`.
    public static func probe(_ root: URL) -> CodeVersion {
        let env = ProcessInfo.processInfo.environment
        if let commit = env["PLUMB_CODE_COMMIT"] {
            return CodeVersion(commit: commit, dirty: env["PLUMB_CODE_DIRTY"].map { $0 == "1" || $0 == "true" },
                               content: env["PLUMB_CODE_CONTENT"])
        }
        let content: String?
        let executable = Bundle.main.executableURL
        if let tree = try? sourceTreeHash(root), !isNewer(root, than: executable) {
            content = "sources:\(tree) \(buildConfiguration)"
        } else if let executable, let sha = try? SHA256.hex(ofFile: executable) {
            content = "executable:\(sha) \(buildConfiguration)"
        } else {
            content = nil
        }
        guard let commit = git(["rev-parse", "HEAD"], in: root)?.trimmingCharacters(in: .whitespacesAndNewlines),
              commit.count == 40 else { return CodeVersion(commit: nil, dirty: nil, content: content) }
        let status = git(["status", "--porcelain", "--untracked-files=no"], in: root)
        return CodeVersion(commit: commit, dirty: status.map { !$0.isEmpty }, content: content)
    }

    /// SHA-256 over `Package.swift` and every file under `Sources/` of `root` (hidden names skipped):
    /// for each file in order of relative path, the path, its size and its SHA-256, one line each.
    /// Throws when `root` has no `Package.swift` or no `Sources/`.
    public static func sourceTreeHash(_ root: URL) throws -> String {
        let fm = FileManager.default
        let sources = root.appendingPathComponent("Sources")
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.appendingPathComponent("Package.swift").path),
              fm.fileExists(atPath: sources.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError.notFound(path: root.path, reason: "no Package.swift and Sources/ to hash")
        }
        var files = ["Package.swift"]
        guard let walker = fm.enumerator(at: sources, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            throw StoreError.io(path: sources.path, operation: "list directory", errno: EIO)
        }
        let prefix = root.standardizedFileURL.path + "/"
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            files.append(String(url.standardizedFileURL.path.dropFirst(prefix.count)))
        }
        var text = "plumb-sources/1\n"
        for file in files.sorted() {
            let url = root.appendingPathComponent(file)
            let size = (try fm.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            text += "\(file)\n\(size) \(try SHA256.hex(ofFile: url))\n"
        }
        return SHA256.hex(of: Data(text.utf8))
    }

    /// Whether a file of the tree at `root` was modified after `executable` was built: the tree on
    /// disk is then not (all) what the running binary was compiled from.
    static func isNewer(_ root: URL, than executable: URL?) -> Bool {
        guard let executable, let built = (try? executable.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate
        else { return false }
        let keys: [URLResourceKey] = [.contentModificationDateKey]
        let files = [root.appendingPathComponent("Package.swift")]
            + (FileManager.default.enumerator(at: root.appendingPathComponent("Sources"), includingPropertiesForKeys: keys)?.compactMap { $0 as? URL } ?? [])
        return files.contains { ((try? $0.resourceValues(forKeys: Set(keys)))?.contentModificationDate ?? .distantPast) > built }
    }

    private static func git(_ arguments: [String], in directory: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The cache key of a stage: SHA-256 over a versioned, line-separated text of the stage kind, the
/// canonical config JSON, each input's SHA-256 (in the given order) and the code version (its
/// content hash when known, else the git commit and dirty flag).
public enum CacheKey {
    /// The config as it enters the key: every string that is an absolute path inside `runsRoot`
    /// becomes `runs:` plus its path relative to it, so a run directory moved or copied elsewhere
    /// (with its runs root) keeps its stages' keys. Paths outside the runs root stay as they are;
    /// the files a stage reads enter the key by their checksums either way.
    public static func locationIndependent(_ config: JSONValue, runsRoot: URL) -> JSONValue {
        let root = runsRoot.standardizedFileURL.path
        let prefix = root.hasSuffix("/") ? root : root + "/"
        switch config {
        case .string(let s) where s.hasPrefix(prefix):
            return .string("runs:" + s.dropFirst(prefix.count))
        case .array(let a):
            return .array(a.map { locationIndependent($0, runsRoot: runsRoot) })
        case .object(let o):
            return .object(o.mapValues { locationIndependent($0, runsRoot: runsRoot) })
        default:
            return config
        }
    }

    public static func compute(kind: String, config: JSONValue, inputSHA256s: [String], code: CodeVersion) throws -> String {
        var text = Data("plumb-stage-cache/1\nkind \(kind)\nconfig ".utf8)
        text.append(try config.canonicalJSON())
        for sha in inputSHA256s { text.append(Data("\ninput \(sha)".utf8)) }
        if let content = code.content {
            text.append(Data("\ncode \(content)\n".utf8))
        } else {
            text.append(Data("\ncode \(code.commit ?? "unknown") dirty \(code.dirty.map { String($0) } ?? "unknown")\n".utf8))
        }
        return SHA256.hex(of: text)
    }
}
