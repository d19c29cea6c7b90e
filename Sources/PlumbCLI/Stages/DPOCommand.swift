// `plumb dpo`: direct preference optimisation with a cached reference (DPOStage).
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

extension DPOLossKind: ExpressibleByArgument {}

struct DPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Direct preference optimisation of a policy on comparisons (import or rs stages), the reference's log-probabilities computed once and cached.")
    @Option(help: "SentencePiece model (.model).") var tokenizer: String
    @Option(help: "Policy stage (SFT or RS) to start from.") var initFrom: String
    @Option(help: "Reference policy stage (default: --init-from).") var reference: String?
    @Option(name: .customLong("data"), help: "Stage with comparisons-train / comparisons-validation sets (repeatable).") var data: [String]
    @Option(help: "Loss: sigmoid (DPO), robust (conservative DPO), ipo, hinge; simpo and orpo use no reference (docs/alignment.md).") var loss: DPOLossKind = .sigmoid
    @Option(help: "beta (ORPO's lambda with --loss orpo; SimPO's published 2.0-2.5).") var beta: Double = 0.1
    @Option(help: "SimPO's target reward margin gamma.") var gamma: Double = 0.5
    @Option(help: "Label smoothing e of the robust loss.") var labelSmoothing: Double = 0
    @Option(help: "Weight of the NLL term on the chosen response (RPO); 0 turns it off.") var rpo: Double = 0
    @Flag(help: "Average log-probabilities over response tokens (ipo always does).") var lengthNormalised = false
    @Option(help: "Tokens per row.") var seqLen = 256
    @Option(help: "Rows per micro-batch.") var rows = 8
    @Option(help: "Passes over the training pairs.") var epochs = 1
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "Mixture weight SOURCE=WEIGHT or SOURCE:DIMENSION=WEIGHT (repeatable; SOURCE a --data stage's directory name or *): weights are shares, the scarcest weighted source taken whole, as rm train's --mix; a source no component names is left out. Default: every comparison once.")
    var mix: [String] = []
    @Option(help: "Seed of the mixture's pick and the data order.") var seed: UInt64 = 1
    @Option(help: "Another dpo stage whose cached reference log-probabilities may be reused.") var referenceCache: String?
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var output: StageOutputOptions

    func validate() throws {
        _ = try parseMixture(mix, requireDimension: false, data: data)
    }

    func run() throws {
        var p = DPOStage.Parameters()
        p.mixture = try parseMixture(mix, requireDimension: false)
        p.loss = DPOLoss(kind: loss, beta: beta, labelSmoothing: labelSmoothing, rpo: rpo, lengthNormalised: lengthNormalised, gamma: gamma)
        p.seqLen = seqLen
        p.rows = rows
        p.epochs = epochs
        p.template = template
        p.seed = seed
        p.loop = optimization.loopSettings(defaultLearningRate: 1e-6)
        let printer = ProgressPrinter(label: output.location.stage)
        let inputs = StageInputs(["tokenizer": [fileURL(tokenizer)], "init-from": [fileURL(initFrom)], "reference": reference.map { [fileURL($0)] } ?? [],
                                  "data": data.map(fileURL), "reference-cache": referenceCache.map { [fileURL($0)] } ?? []])
        let summary = try StageRun.run(DPOStage.self, p, inputs: inputs, location: output.location, progress: printer.handle).training
        print(String(format: "dpo: %d steps, held-out rewards/accuracies %.3f, margins %.3f -> %@", summary.steps,
                     summary.finalEvaluation["eval_rewards/accuracies"] ?? .nan, summary.finalEvaluation["eval_rewards/margins"] ?? .nan, output.out))
    }
}
