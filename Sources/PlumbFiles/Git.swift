// Asking git about a checkout: the code version's commit and dirty flag, at run time (CodeVersion)
// and at build time (PlumbBuildInfo).
import Foundation

public enum Git {
    /// The standard output of `git -C directory ARGS`, or nil when git is missing or fails.
    public static func output(_ arguments: [String], in directory: URL) -> String? {
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

    /// The commit checked out in `directory` and whether tracked files differ from it, or nil.
    public static func commit(in directory: URL) -> (commit: String, dirty: Bool?)? {
        guard let commit = output(["rev-parse", "HEAD"], in: directory)?.trimmingCharacters(in: .whitespacesAndNewlines),
              commit.count == 40 else { return nil }
        let status = output(["status", "--porcelain", "--untracked-files=no"], in: directory)
        return (commit, status.map { !$0.isEmpty })
    }
}
