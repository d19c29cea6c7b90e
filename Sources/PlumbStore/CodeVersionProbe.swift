// Best-effort code version for manifests: the git commit and dirty flag of the source tree, from
// PLUMB_CODE_COMMIT / PLUMB_CODE_DIRTY if set, else from `git` run in the working directory.
import Foundation

extension CodeVersion {
    public static func current(directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) -> CodeVersion {
        let env = ProcessInfo.processInfo.environment
        if let commit = env["PLUMB_CODE_COMMIT"] {
            return CodeVersion(commit: commit, dirty: env["PLUMB_CODE_DIRTY"].map { $0 == "1" || $0 == "true" })
        }
        guard let commit = git(["rev-parse", "HEAD"], in: directory)?.trimmingCharacters(in: .whitespacesAndNewlines),
              commit.count == 40 else { return CodeVersion(commit: nil, dirty: nil) }
        let status = git(["status", "--porcelain", "--untracked-files=no"], in: directory)
        return CodeVersion(commit: commit, dirty: status.map { !$0.isEmpty })
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
/// canonical config JSON, each input's SHA-256 (in the given order) and the code version.
public enum CacheKey {
    public static func compute(kind: String, config: JSONValue, inputSHA256s: [String], code: CodeVersion) throws -> String {
        var text = Data("plumb-stage-cache/1\nkind \(kind)\nconfig ".utf8)
        text.append(try config.canonicalJSON())
        for sha in inputSHA256s { text.append(Data("\ninput \(sha)".utf8)) }
        text.append(Data("\ncode \(code.commit ?? "unknown") dirty \(code.dirty.map { String($0) } ?? "unknown")\n".utf8))
        return SHA256.hex(of: text)
    }
}
