// The code version of a manifest and of a stage's cache key. `content` identifies the code by its
// bytes: the SHA-256 of the package's source tree (SourceTree.hash: every file under `Sources/` and
// `Package.swift`, by relative path). The `plumb` binary carries the hash of the tree it was built
// from (Plugins/EmbedBuildInfo; `useBuilt` at start), so its version is fixed at build time and
// known wherever the binary runs. Without one (tests, the libraries used directly) it is probed from
// the tree found through this file's compile-time path; when that tree is not on disk, or a file of
// it is newer than the running executable (edited since the build), it is the SHA-256 of the
// executable instead. The build configuration is appended: debug and release builds round
// differently. The git commit and dirty flag are kept beside it for people. PLUMB_CODE_COMMIT /
// PLUMB_CODE_DIRTY / PLUMB_CODE_CONTENT override both.
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
    nonisolated(unsafe) private static var built: CodeVersion?

    /// The code version of this process: the one its executable was built with, else probed (once).
    public static func current() -> CodeVersion { built ?? probed }

    /// Makes the code version the one fixed when the executable was built: `sourceTreeHash` of the
    /// tree it was compiled from, with the git commit and dirty flag of that tree at build time
    /// (nil where git was not available). Called once, first thing, by `plumb`; environment
    /// overrides (PLUMB_CODE_COMMIT...) still win.
    public static func useBuilt(sourceTreeHash: String, commit: String?, dirty: Bool?) {
        guard ProcessInfo.processInfo.environment["PLUMB_CODE_COMMIT"] == nil else { return }
        built = CodeVersion(commit: commit, dirty: dirty, content: "sources:\(sourceTreeHash) \(buildConfiguration)")
    }

    /// The code version of the package at `root`.
    public static func probe(_ root: URL) -> CodeVersion {
        let env = ProcessInfo.processInfo.environment
        if let commit = env["PLUMB_CODE_COMMIT"] {
            return CodeVersion(commit: commit, dirty: env["PLUMB_CODE_DIRTY"].map { $0 == "1" || $0 == "true" },
                               content: env["PLUMB_CODE_CONTENT"])
        }
        let content: String?
        let executable = Bundle.main.executableURL
        if let tree = try? SourceTree.hash(root), !isNewer(root, than: executable) {
            content = "sources:\(tree) \(buildConfiguration)"
        } else if let executable, let sha = try? SHA256.hex(ofFile: executable) {
            content = "executable:\(sha) \(buildConfiguration)"
        } else {
            content = nil
        }
        let git = Git.commit(in: root)
        return CodeVersion(commit: git?.commit, dirty: git?.dirty, content: content)
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
