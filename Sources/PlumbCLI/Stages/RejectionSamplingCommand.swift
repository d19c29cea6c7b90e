// `plumb rs-merge`: an rs stage with its human tasks' completed exports folded in (HumanFeedbackStage).
// (`plumb rs` is RejectionSamplingStage's command, derived from the stage: StageKindCommand.)
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

/// `plumb rs-merge`: an rs stage with its human tasks' completed Label Studio exports folded in.
struct RejectionSamplingMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs-merge",
        abstract: "Fold completed human rankings and edits (Label Studio exports of an rs stage's human-*-tasks.json) into its best samples and pairs.")
    @Option(help: "The rs stage that wrote the human task files.") var rs: String
    @Option(help: "Completed Label Studio export of human-rank-tasks.json.") var rankings: String?
    @Option(help: "Completed Label Studio export of human-edit-tasks.json.") var edits: String?
    @OptionGroup var output: StageOutputOptions

    func run() throws {
        let inputs = StageInputs(["rs": [fileURL(rs)], "rankings": rankings.map { [fileURL($0)] } ?? [], "edits": edits.map { [fileURL($0)] } ?? []])
        let s = try StageRun.run(HumanFeedbackStage.self, NoParameters(), inputs: inputs, location: output.location)
        print("rs-merge: \(s.prompts) prompts: \(s.rewardModel) reward model, \(s.humanRank) human rank (\(s.rankChangedBest) changed the best), "
              + "\(s.humanEdit) human edit; \(s.skipped) of \(s.rankTasks + s.editTasks) tasks skipped -> \(output.out)")
    }
}
