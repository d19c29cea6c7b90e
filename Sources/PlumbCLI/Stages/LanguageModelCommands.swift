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

func runLanguageModelStage<S: LanguageModelTraining>(_ stage: S.Type, data: LanguageModelDataOptions, model: ModelInitOptions,
                                                      optimization: OptimizationOptions, output: StageOutputOptions) throws {
    var p = S.Parameters()
    p.seqLen = data.seqLen
    p.rows = data.rows
    p.layout = data.layout
    p.epochs = data.epochs
    p.template = data.template
    p.seed = data.seed
    p.importWeights = data.importWeights
    p.comparisonResponses = data.comparisonResponses
    p.loop = optimization.loopSettings(defaultLearningRate: S.defaultLearningRate)
    let (preset, modelInputs) = try model.initialisation()
    p.initPreset = preset
    p.initSeed = model.initSeed
    let inputs = StageInputs(modelInputs.merging(["tokenizer": [fileURL(data.tokenizer)], "text": data.texts.map(fileURL),
                                                  "data": data.imports.map(fileURL), "comparisons": data.comparisonStages.map(fileURL)]) { $1 })
    let printer = ProgressPrinter(label: S.kind.name)
    let result = try StageRun.run(S.self, p, inputs: inputs, location: output.location, progress: printer.handle)
    let summary = result.training
    let figures = summary.finalEvaluation.keys.sorted().map { String(format: "%@ %.4f", $0, summary.finalEvaluation[$0]!) }
    print("\(S.kind): \(summary.steps) steps, train loss \(String(format: "%.4f", summary.finalLoss)), \(figures.joined(separator: ", ")), "
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
        try runLanguageModelStage(PretrainStage.self, data: data, model: model, optimization: optimization, output: output)
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
        try runLanguageModelStage(SFTStage.self, data: data, model: model, optimization: optimization, output: output)
    }
}
