// `plumb report RUN... [--out FILE]`: one self-contained HTML page of one or more runs (several
// months side by side): training curves, evaluation results, every stage's figures, the lineage.
import ArgumentParser
import Foundation
import PlumbReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page of a run's curves, results and lineage (inline SVG, no network).")

    @Argument(help: "Run directories, or directories of runs (each run then gets its section; policies are compared across runs).")
    var runs: [String]
    @Option(help: "The HTML file (default: report.html in the one directory given, else beside the first one given).")
    var out: String?

    func run() throws {
        print(try ReportPage.write(runs, out: out).path)
    }
}
