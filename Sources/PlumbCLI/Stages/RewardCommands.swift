// `plumb rm train | eval | score`: RewardModelStage's command derived from the stage
// (StageKindCommand), thin commands over RewardEvalStage and RewardScoreStage (PlumbStages/Reward).
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

extension Split: ExpressibleByArgument {}

struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Reward models: train, evaluate, score.",
        subcommands: [StageKindCommand<RewardModelStage>.self, RewardEvalCommand.self, RewardScoreCommand.self])
}

extension RewardEvalStage.Scoring: ExpressibleByArgument {}
extension RewardLikelihoodTerm.Kind: ExpressibleByArgument {}
extension DPOLossKind: ExpressibleByArgument {}

struct RewardEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Accuracy of a reward model on held-out comparisons; score statistics into the manifest.")
    @Option(help: "SentencePiece model (.model).") var tokenizer: String
    @Option(help: "Reward-model stage directory.") var model: String
    @Option(name: .customLong("data"), help: "Import stage directory with comparisons (repeatable).") var imports: [String]
    @Option(help: "Which split's comparisons: train, validation or test.") var split: Split = .test
    @Option(help: "Longest sequence scored (default: the model's window).") var seqLen: Int?
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "Flag a response unsafe when sigmoid(score) is below this.") var unsafeThreshold: Double = 0.15
    @Option(help: "Score: reward-head, or a policy's likelihood (--model is then a policy): likelihood (sum over the response), mean-likelihood (per token), centred-likelihood (each token plus its entropy).")
    var scoring: RewardEvalStage.Scoring = .rewardHead
    @Option(help: "Reference policy for the likelihood scorings: the score is then beta * (log pi - log pi_ref), DPO's implicit reward.")
    var reference: String?
    @Option(help: "beta of the implicit reward (with --reference).") var beta: Double = 0.1
    @Option(help: "Import stage with labelled responses (repeatable): the unsafe gate's precision, recall and AUROC are then measured on its labelled-responses-<split> instead of the comparisons' labels.")
    var labelled: [String] = []
    @Flag(help: "Print the figures as one JSON object.") var json = false
    @OptionGroup var output: StageOutputOptions

    func run() throws {
        var p = RewardEvalStage.Parameters()
        p.scoring = scoring
        p.beta = beta
        p.split = split
        p.seqLen = seqLen
        p.template = template
        p.unsafeThreshold = unsafeThreshold
        let inputs = StageInputs(["tokenizer": [fileURL(tokenizer)], "model": [fileURL(model)], "data": imports.map(fileURL),
                                  "reference": reference.map { [fileURL($0)] } ?? [], "labelled": labelled.map(fileURL)])
        let evaluation = try StageRun.run(RewardEvalStage.self, p, inputs: inputs, location: output.location)
        if json { try printJSON(evaluation.metrics) } else { print(RewardEvalTable.render(evaluation)) }
    }
}

struct RewardScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Add reward-model scores to shards of demonstrations or comparisons, as a new stage.")
    @Option(help: "SentencePiece model (.model).") var tokenizer: String
    @Option(help: "Reward-model stage directory.") var model: String
    @Option(name: .customLong("data"), help: "Stage directory or shard path to score (repeatable).") var data: [String]
    @Option(name: .customLong("set"), help: "Output set to score (repeatable; default: every demonstrations-* and comparisons-* set).") var sets: [String] = []
    @Option(help: "Longest sequence scored (default: the model's window).") var seqLen: Int?
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @OptionGroup var output: StageOutputOptions
    @OptionGroup var parallel: DistributedOptions

    func run() throws {
        var p = RewardScoreStage.Parameters()
        p.outputs = sets
        p.seqLen = seqLen
        p.template = template
        let inputs = StageInputs(["tokenizer": [fileURL(tokenizer)], "model": [fileURL(model)], "data": data.map(fileURL)])
        let counts = try StageRun.run(RewardScoreStage.self, p, inputs: inputs, location: output.location).scored
        for (name, n) in counts.sorted(by: { $0.key < $1.key }) { print("\(name): \(n) records scored") }
        print("-> \(output.location.directory.path)")
    }
}
