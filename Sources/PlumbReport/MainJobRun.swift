// The main job on the built-in task (`plumb demo`): month 1 is the built-in main-job.yaml, each later
// month the built-in monthly.yaml reading the month before, each a `PipelineSession` run to the end
// (complete stages skipped by their keys, interrupted ones resumed); then the months' typed results
// (MainJobResults), written as results.json, and the report page of every month.
import Foundation
import PlumbEval
import PlumbPipeline

public enum MainJobRun {
    /// What the job wrote and prints: the results table with the steps' times, and the report page.
    public struct Outcome {
        public var report: MainJobReport
        public var text: String
        public var page: URL
    }

    /// Runs `months` months under `root` (month-1, month-2, ...) with `profile`'s settings and `seed`.
    public static func run(root: URL, months: Int, profile: String, seed: UInt64, services: PipelineServices) throws -> Outcome {
        let steps = MainJobSteps()
        var monthRuns: [URL] = []
        for month in 1...months {
            let run = root.appendingPathComponent("month-\(month)")
            let file = PipelineFile.builtInPrefix + (month == 1 ? "main-job.yaml" : "monthly.yaml")
            let session = try PipelineSession.open(file: file, run: run, previous: monthRuns.last, profile: profile,
                                                   overrides: ["seed": "\(seed)"], acceptCodeChange: false, services: services)
            try session.runner.execute(steps: steps.prefixed(months > 1 ? "m\(month) " : ""))
            try session.finish()
            monthRuns.append(run)
        }
        let report = MainJobReport(run: root.path, seed: seed, profile: profile, months: monthRuns.map(\.lastPathComponent),
                                   steps: steps.figures, results: try MainJobResults.read(months: monthRuns))
        try report.write(to: root.appendingPathComponent("results.json"))
        let page = try ReportPage.write(monthRuns.map(\.path), out: root.appendingPathComponent("report.html").path)
        return Outcome(report: report, text: report.text(stepTable: steps.table()), page: page)
    }
}

/// The step timer is told of each stage the runner reaches.
extension MainJobSteps: PipelineStepObserver {}
