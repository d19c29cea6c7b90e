// `plumb runs lineage STAGE`: the tree of PipelineLineage (PlumbPipeline), one line per stage read.
import ArgumentParser
import Foundation
import PlumbPipeline

struct RunsLineageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage", abstract: "Every input of a pipeline stage, back to the first, across runs, with checksums.")

    @Argument(help: "A stage directory of a pipeline run (e.g. runs/2026-12/ppo).") var stage: String
    @Flag(help: "Full checksums instead of their first 12 characters.") var fullChecksums = false

    func run() throws {
        let top = URL(fileURLWithPath: stage).standardizedFileURL
        for line in try PipelineLineage.lines(top, fullChecksums: fullChecksums) { print(line) }
    }
}
