// `plumb eval best-of-k`: best-of-k curves of a rejection-sampling stage's samples under three
// selectors, judged by the oracle (BestOfK).
import ArgumentParser
import Foundation
import PlumbEval
import PlumbOracle
import PlumbStages

struct EvalBestOfKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "best-of-k",
        abstract: "Best-of-k curves (k = 1, 2, 4, ..., K) of an rs stage's samples, picked by the combined reward, the helpfulness model or the oracle.")
    @Option(help: "An rs stage directory.") var samples: String
    @Flag(help: "Print JSON rows instead of a table.") var json = false

    func run() throws {
        let stage = URL(fileURLWithPath: samples).standardizedFileURL
        let rows = try BestOfK.evaluate(stage)
        if json { try printReport(rows, pretty: true, escapingSlashes: true) } else { print(BestOfK.table(rows)) }
    }
}
