// `plumb rm train | eval | score`: thin commands over RewardModelStage, RewardEvalStage and
// RewardScoreStage (PlumbStages/Reward).
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

extension Split: ExpressibleByArgument {}

/// `--margin`: which margin table the ranking loss uses.
enum MarginChoice: String, CaseIterable, ExpressibleByArgument {
    case none, small, large, custom
}

struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Reward models: train, evaluate, score.",
        subcommands: [RewardTrainCommand.self, RewardEvalCommand.self, RewardScoreCommand.self])
}

/// `--mix` components (MixtureWeight.parse, shared by `rm train` and `dpo`), each source one of the
/// `--data` stages (given `data`); a bad one is a usage error naming the option and value.
func parseMixture(_ texts: [String], requireDimension: Bool, data: [String]? = nil) throws -> RewardMixture? {
    guard !texts.isEmpty else { return nil }
    do {
        let mixture = RewardMixture(weights: try texts.map { try MixtureWeight.parse($0, option: "--mix", requireDimension: requireDimension) })
        try mixture.validate(sources: data.map { SourcedComparisons.names(of: $0.map { URL(fileURLWithPath: $0) }) })
        return mixture
    } catch let error as StageError {
        throw ValidationError(error.description)
    }
}

struct RewardTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a helpfulness or safety reward model from an SFT stage (Llama 2 defaults: 1 epoch, lr 1e-5).")
    @Option(help: "SentencePiece model (.model).") var tokenizer: String
    @Option(help: "SFT stage (or Hugging Face) directory to start from.") var initFrom: String
    @Option(name: .customLong("data"), help: "Import stage directory with comparisons (repeatable).") var imports: [String]
    @Option(help: "Which reward model: helpfulness or safety.") var dimension: PreferenceDimension
    @Option(help: "Margin table: none, small, large (Llama 2 Table 27) or custom.") var margin: MarginChoice = .small
    @Option(help: "With --margin custom: four margins, strongest first, e.g. 1,0.5,0.25,0.") var customMargins: String?
    @Option(help: "Centring coefficient c of c * mean((r_c + r_r)^2); 0 turns it off.") var centring: Float = 0
    @Option(help: "Mixture weight SOURCE:DIMENSION=WEIGHT (repeatable; default: Llama 2's mixture for --dimension).") var mix: [String] = []
    @Option(help: "Tokens per row.") var seqLen: Int = 256
    @Option(help: "Rows per micro-batch.") var rows: Int = 8
    @Option(help: "Passes over the training comparisons.") var epochs: Int = 1
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "Seed for the mixture, data order and a fresh reward head.") var seed: UInt64 = 1
    @Option(help: "Add beta * the model's own log-likelihood of the response to the head's score: none (Llama 2), sum, mean per token, or centred (each token's log-probability plus its entropy).")
    var likelihood: RewardLikelihoodTerm.Kind = .none
    @Option(help: "beta of --likelihood.") var likelihoodWeight: Float = 0.1
    @Flag(help: "Also draw safety pairs from labelled responses (labelled-responses-* of the --data stages): each prompt's safe responses over its unsafe ones.")
    var labelledPairs = false
    @Option(help: "Train N reward models by seeds seed, seed+1, ... (member 0 in the stage, the others under members/) for a conservative reward.")
    var ensemble: Int?
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var output: StageOutputOptions

    func validate() throws {
        _ = try parseMixture(mix, requireDimension: true, data: imports)
        guard seqLen > 1, rows > 0, epochs > 0, centring >= 0 else { throw ValidationError("--seq-len > 1, --rows > 0, --epochs > 0 and --centring >= 0 are required") }
        guard (margin == .custom) == (customMargins != nil) else { throw ValidationError("--custom-margins goes with --margin custom, and only with it") }
        if let ensemble, !(1...64).contains(ensemble) { throw ValidationError("--ensemble \(ensemble): the number of members must be in 1...64") }
    }

    func marginTable() throws -> MarginTable {
        switch margin {
        case .none: return .none
        case .small: return .small
        case .large: return .large
        case .custom:
            let values = (customMargins ?? "").split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 4 else { throw ValidationError("--custom-margins \(customMargins ?? ""): expected four numbers") }
            return .custom(significantlyBetter: values[0], better: values[1], slightlyBetter: values[2], negligiblyBetter: values[3])
        }
    }

    func run() throws {
        var p = RewardModelStage.Parameters(dimension: dimension)
        p.margins = try marginTable()
        p.centring = centring
        p.likelihood = RewardLikelihoodTerm(kind: likelihood, weight: likelihood == .none ? 0 : likelihoodWeight)
        p.mixture = try parseMixture(mix, requireDimension: true)
        p.seqLen = seqLen
        p.rows = rows
        p.epochs = epochs
        p.template = template
        p.seed = seed
        p.loop = optimization.loopSettings(defaultLearningRate: 1e-5)
        p.labelledPairs = labelledPairs ? true : nil
        p.ensemble = ensemble
        let inputs = StageInputs(["tokenizer": [fileURL(tokenizer)], "init-from": [fileURL(initFrom)], "data": imports.map(fileURL)])
        let printer = ProgressPrinter(label: "rm-\(dimension.rawValue)")
        let result = try StageRun.run(RewardModelStage.self, p, inputs: inputs, location: output.location, progress: printer.handle)
        let summary = result.training
        let figures = summary.finalEvaluation.keys.sorted().map { String(format: "%@ %.4f", $0, summary.finalEvaluation[$0]!) }
        print("rm \(dimension.rawValue): \(summary.steps) steps, train loss \(String(format: "%.4f", summary.finalLoss)), "
            + "\(figures.joined(separator: ", ")), \(Int(summary.tokensPerSecond)) tokens/s -> \(output.location.directory.path)")
        for m in result.members ?? [] {
            print(String(format: "  member %d (seed %llu): val_accuracy %.4f, scale mean %.4f std %.4f, %.1f s", m.member, m.seed,
                         m.finalEvaluation["val_accuracy"] ?? .nan, m.scale.mean, m.scale.std, m.seconds))
        }
    }
}

extension RewardEvalStage.Scoring: ExpressibleByArgument {}

/// `--conservative RULE` (ConservativeRule's spelling); a bad one is a usage error naming the option.
func parseConservative(_ text: String) throws -> ConservativeRule {
    do { return try ConservativeRule(parsing: text) } catch let error as StageError {
        throw ValidationError("--conservative: \(error.description)")
    }
}
extension RewardLikelihoodTerm.Kind: ExpressibleByArgument {}

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
