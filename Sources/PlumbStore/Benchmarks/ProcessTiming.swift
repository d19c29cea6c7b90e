// What `bench shards` needs of other programs: finding one on PATH, running it timed, its CPU seconds,
// and gunzipping the input through it.
import Foundation
import PlumbFiles

enum ProcessTiming {
    static func findExecutable(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a tool with its stdout to `stdoutTo` (or discarded); returns wall seconds.
    static func run(_ tool: String, _ arguments: [String], stdoutTo: URL?) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if let stdoutTo {
            _ = FileManager.default.createFile(atPath: stdoutTo.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: stdoutTo)
        } else {
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        }
        let start = monotonicSeconds()
        try process.run()
        process.waitUntilExit()
        let seconds = monotonicSeconds() - start
        guard process.terminationStatus == 0 else { throw BenchmarkError("\(tool) \(arguments.joined(separator: " ")) failed") }
        return seconds
    }

    /// User + system CPU seconds of this process (RUSAGE_SELF) or of its waited-for children.
    static func cpuSeconds(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(who.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func fileSize(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }

    /// The JSONL text of `path` (gunzipped by `gzip -dc` when it ends in .gz), ending in a newline.
    static func loadJSONL(_ path: String, gzip: String) throws -> Data {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw BenchmarkError("\(path): not found", hint: "run from the package root, or pass --input")
        }
        var data: Data
        if path.hasSuffix(".gz") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: gzip)
            process.arguments = ["-dc", url.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchmarkError("\(path): gzip -dc failed") }
        } else {
            data = try Data(contentsOf: url)
        }
        if data.last != 0x0A { data.append(0x0A) }
        return data
    }
}
