// Running the main job's steps: each step is timed, its peak resident memory measured (the kernel's
// high-water mark is reset before each step through /proc/self/clear_refs), and a step whose stage
// directory already completed is skipped, so a rerun after a kill picks up where it stopped
// (training stages also resume from their checkpoints).
import ArgumentParser
import Foundation
import PlumbStore

struct StepFigures: Codable {
    var step: String
    var seconds: Double
    var peakRSSBytes: Int?
    var skipped: Bool
}

final class MainJobSteps {
    private(set) var figures: [StepFigures] = []

    /// Runs `body` unless `stageDirectory` holds a complete stage.
    func run(_ name: String, stage stageDirectory: URL? = nil, _ body: () throws -> Void) throws {
        if let dir = stageDirectory, let manifest = try? StageManifest.read(from: dir), manifest.status == .complete {
            FileHandle.standardError.write(Data("== \(name): complete in \(dir.path), skipped\n".utf8))
            figures.append(StepFigures(step: name, seconds: 0, peakRSSBytes: nil, skipped: true))
            return
        }
        FileHandle.standardError.write(Data("== \(name)\n".utf8))
        resetPeakRSS()
        let start = monotonicSeconds()
        try body()
        figures.append(StepFigures(step: name, seconds: monotonicSeconds() - start, peakRSSBytes: peakRSSBytes(), skipped: false))
    }

    /// Runs a `plumb` command line in this process, as a user would type it.
    func plumb(_ arguments: [String]) throws {
        var command = try PlumbCommand.parseAsRoot(arguments)
        try command.run()
    }

    /// Resets VmHWM to the current RSS (Linux >= 4.0); harmless elsewhere.
    private func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    func table() -> String {
        var lines = [pad("step", 28) + pad("wall", 10) + "peak RSS"]
        for f in figures {
            let wall = f.skipped ? "skipped" : String(format: "%.1f s", f.seconds)
            let rss = f.peakRSSBytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "-"
            lines.append(pad(f.step, 28) + pad(wall, 10) + rss)
        }
        let total = figures.reduce(0) { $0 + $1.seconds }
        lines.append(pad("total", 28) + String(format: "%.1f s", total))
        return lines.joined(separator: "\n")
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
