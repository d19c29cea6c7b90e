// `plumb pretrain` and `plumb sft`: thin commands over LanguageModelStage.
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

struct LanguageModelDataOptions: ParsableArguments {
    @Option(help: "SentencePiece model (.model).") var tokenizer: String
    @Option(name: .customLong("text"), help: "Raw text file, one passage per line (repeatable).") var texts: [String] = []
    @Option(name: .customLong("data"), help: "Import stage directory with demonstrations (repeatable).") var imports: [String] = []
    @Option(name: .customLong("data-weight"), help: "Mixture weight of each --data stage's training demonstrations, in --data order (repeatable; default 1 each; 0.5 keeps a seeded half, 2 repeats them).")
    var importWeights: [Double] = []
    @Option(name: .customLong("comparisons"), help: "Import stage directory with comparisons whose responses become dialogues (repeatable).")
    var comparisonStages: [String] = []
    @Option(help: "Responses of --comparisons to train on: chosen (the DPO paper's Preferred-FT) or both.")
    var comparisonResponses: ComparisonResponses = .chosen
    @Option(help: "Tokens per row.") var seqLen: Int = 128
    @Option(help: "Rows per micro-batch.") var rows: Int = 16
    @Option(help: "packed (block-diagonal attention) or padded.") var layout: SequenceLayout = .packed
    @Option(help: "Passes over the training data.") var epochs: Int = 2
    @Option(help: "Chat template for dialogue records.") var template: ChatTemplate = .plumbline
    @Option(help: "Seed for data order.") var seed: UInt64 = 1

    func validate() throws {
        guard !texts.isEmpty || !imports.isEmpty || !comparisonStages.isEmpty else {
            throw ValidationError("give at least one --text, --data or --comparisons input")
        }
        guard seqLen > 1, rows > 0, epochs > 0 else { throw ValidationError("--seq-len > 1, --rows > 0 and --epochs > 0 are required") }
    }
}

func runLanguageModelStage(kind: String, mask: LossMask, defaultLearningRate: Float, data: LanguageModelDataOptions,
                           model: ModelInitOptions, optimization: OptimizationOptions, output: StageOutputOptions) throws {
    var p = LanguageModelStage.Parameters(mask: mask)
    p.seqLen = data.seqLen
    p.rows = data.rows
    p.layout = data.layout
    p.epochs = data.epochs
    p.template = data.template
    p.seed = data.seed
    p.importWeights = data.importWeights
    p.loop = optimization.loopSettings(defaultLearningRate: defaultLearningRate)
    let inputs = LanguageModelStage.Inputs(
        tokenizer: URL(fileURLWithPath: data.tokenizer), initialisation: try model.initialisation(),
        textFiles: data.texts.map { URL(fileURLWithPath: $0) }, importStages: data.imports.map { URL(fileURLWithPath: $0) },
        comparisonStages: data.comparisonStages.map { URL(fileURLWithPath: $0) }, comparisonResponses: data.comparisonResponses)
    let printer = ProgressPrinter(label: kind)
    let summary = try LanguageModelStage.run(p, inputs: inputs, location: output.location, kind: kind, progress: printer.handle)
    let figures = summary.finalEvaluation.keys.sorted().map { String(format: "%@ %.4f", $0, summary.finalEvaluation[$0]!) }
    print("\(kind): \(summary.steps) steps, train loss \(String(format: "%.4f", summary.finalLoss)), \(figures.joined(separator: ", ")), "
        + "\(Int(summary.tokensPerSecond)) tokens/s -> \(output.location.directory.path)")
}

struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain", abstract: "Train a language model on all tokens of raw text (and dialogues).")
    @OptionGroup var data: LanguageModelDataOptions
    @OptionGroup var model: ModelInitOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var output: StageOutputOptions

    func run() throws {
        try runLanguageModelStage(kind: "pretrain", mask: .allTokens, defaultLearningRate: 3e-4, data: data, model: model,
                                  optimization: optimization, output: output)
    }
}

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft", abstract: "Supervised fine-tuning: loss on response tokens only.")
    @OptionGroup var data: LanguageModelDataOptions
    @OptionGroup var model: ModelInitOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var output: StageOutputOptions

    func run() throws {
        try runLanguageModelStage(kind: "sft", mask: .responseOnly, defaultLearningRate: 2e-5, data: data, model: model,
                                  optimization: optimization, output: output)
    }
}
