// `plumb report RUN... [--out FILE]`: one self-contained HTML page of one or more runs (several
// months side by side): training curves, evaluation results, every stage's figures, the lineage.
import ArgumentParser
import Foundation
import PlumbFiles

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page of a run's curves, results and lineage (inline SVG, no network).")

    @Argument(help: "Run directories, or directories of runs (each run then gets its section; policies are compared across runs).")
    var runs: [String]
    @Option(help: "The HTML file (default: report.html in the one directory given, else beside the first one given).")
    var out: String?

    func run() throws {
        print(try Self.write(runs, out: out).path)
    }

    /// Reads the runs, writes the page atomically, returns its path.
    @discardableResult
    static func write(_ paths: [String], out: String?) throws -> URL {
        guard let first = paths.first else { throw CLIError("name at least one run directory") }
        let runs = try ReportRun.locate(paths).map(ReportRun.read)
        let firstURL = URL(fileURLWithPath: first).standardizedFileURL
        let file = out.map { URL(fileURLWithPath: $0) }
            ?? (paths.count == 1 ? firstURL : firstURL.deletingLastPathComponent()).appendingPathComponent("report.html")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(Data(ReportPage(runs: runs).html().utf8), to: file)
        return file
    }
}
