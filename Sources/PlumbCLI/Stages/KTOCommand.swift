// `plumb kto`: Kahneman-Tversky optimisation on unpaired feedback and comparisons (KTOStage).
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

struct KTOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kto", abstract: KTOStage.abstract)
    @Option(help: "SentencePiece model (.model).") var tokenizer: String
    @Option(help: "Policy stage (SFT or RS) to start from.") var initFrom: String
    @Option(help: "Reference policy stage (default: --init-from).") var reference: String?
    @Option(name: .customLong("data"), help: "Stage with feedbacks- (KTO labels, thumbs), labelled-responses- (safe = desirable) or comparisons-train / -validation sets (repeatable); a comparison gives one desirable and one undesirable example.")
    var data: [String]
    @Option(help: "beta: the implicit reward's scale (TRL's default 0.1).") var beta: Double = 0.1
    @Option(help: "lambda_D, the weight of desirable examples.") var desirableWeight: Double = 1
    @Option(help: "lambda_U, the weight of undesirable examples.") var undesirableWeight: Double = 1
    @Option(help: "Weight of the per-token NLL term on desirable responses (as dpo's RPO); 0 turns it off.") var rpo: Double = 0
    @Option(help: "Tokens per row.") var seqLen = 256
    @Option(help: "Rows per micro-batch (each example and its mismatched twin take two).") var rows = 8
    @Option(help: "Passes over the training examples.") var epochs = 1
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "Seed of the twins' pairing and the data order.") var seed: UInt64 = 1
    @Option(help: "Another kto stage whose cached reference log-probabilities may be reused.") var referenceCache: String?
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var output: StageOutputOptions

    func run() throws {
        var p = KTOStage.Parameters()
        p.loss = KTOLoss(beta: beta, desirableWeight: desirableWeight, undesirableWeight: undesirableWeight, rpo: rpo)
        p.seqLen = seqLen
        p.rows = rows
        p.epochs = epochs
        p.template = template
        p.seed = seed
        p.loop = optimization.loopSettings(defaultLearningRate: 5e-7)
        let printer = ProgressPrinter(label: output.location.stage)
        let inputs = StageInputs(["tokenizer": [fileURL(tokenizer)], "init-from": [fileURL(initFrom)], "reference": reference.map { [fileURL($0)] } ?? [],
                                  "data": data.map(fileURL), "reference-cache": referenceCache.map { [fileURL($0)] } ?? []])
        let summary = try StageRun.run(KTOStage.self, p, inputs: inputs, location: output.location, progress: printer.handle).training
        print(String(format: "kto: %d steps, held-out rewards/margins %.3f, kl %.3f -> %@", summary.steps,
                     summary.finalEvaluation["eval_rewards/margins"] ?? .nan, summary.finalEvaluation["eval_kl"] ?? .nan, output.out))
    }
}
