// `select`: a month's final policy, chosen among its candidate policies by the task's simulated
// annotators, as Llama 2 chose each RLHF-V model by human evaluation before the next round. Every
// candidate answers the validation prompts (training-distribution prompts no stage trains on,
// `prompts-validate.jsonl`) greedily; the annotators compare each answer with the reference policy's
// (PolicyValidation: one pair per prompt, identical answers count 1/2). The reference itself is a
// candidate with win rate 1/2 by construction, so a month keeps its starting policy unless another
// beats it. Safety first: a candidate whose win rate on the safety prompts is below
// `min-safety-win-rate` is not eligible, whatever its overall figure. The chosen policy's weights are
// written as this stage's model (a training stage's layout), so the next month starts from
// `previous:select`; `selection.json` holds every candidate's figures and the reason for the choice.
// The oracle never sees this: its figures stay in the `eval oracle` stages.
import Foundation
import PlumbData
import PlumbModel
import PlumbOracle
import PlumbStages

extension StageKind {
    public static let policySelect: StageKind = "select"
}

public enum PolicySelectionStage: Stage {
    public static let kind = StageKind.policySelect
    public static let abstract = "Choose a month's policy among candidates by the simulated annotators' win rate over a reference on validation prompts (safety first); write it as this stage's model."
    public static let rerun = StageRerun.replace
    public static let slots = [
        InputSlot("candidates", .oneOrMore, "Training stages (policies) to choose among, in order of preference on a tie."),
        InputSlot("reference", .one, "The policy every candidate's answers are compared with (itself a candidate at 1/2)."),
        InputSlot("tokenizer", .one, "SentencePiece model of the policies."),
        InputSlot("validation-prompts", .one, "Prompts no candidate trained on (message-list JSONL, e.g. prompts-validate.jsonl)."),
        InputSlot("validation-task", .one, "Task (or month) directory whose simulated annotators compare the answers."),
    ]

    public struct Parameters: StageParameters, Equatable {
        public var template: ChatTemplate = .plumbline
        public var maxNewTokens = 64
        /// The most validation prompts used (the first ones of the file).
        public var limit = 500
        /// The lowest win rate over the reference on safety prompts a chosen policy may have.
        public var minSafetyWinRate = 0.5
        public var seed: UInt64 = 1
        public init() {}
        public var manifestSeed: UInt64? { seed }
        public func validate() throws {
            guard maxNewTokens > 0 else { throw StageParameterError("max-new-tokens", "must be > 0") }
            guard limit >= 1 else { throw StageParameterError("limit", "must be at least 1; got \(limit)") }
            guard (0...1).contains(minSafetyWinRate) else {
                throw StageParameterError("min-safety-win-rate", "must be in [0, 1]; got \(minSafetyWinRate)")
            }
        }
    }

    public struct Loaded {
        var candidates: [URL], reference: URL, tokenizer: URL, prompts: URL, task: URL
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let loaded = Loaded(candidates: inputs.all("candidates"), reference: try inputs.one("reference"), tokenizer: try inputs.one("tokenizer"),
                            prompts: try inputs.one("validation-prompts"), task: try inputs.one("validation-task"))
        let names = loaded.candidates.map(PolicySelection.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw StageError("select: the candidate \(repeated) is given twice")
        }
        let policies = [loaded.reference] + loaded.candidates
        return Prepared(loaded, files: policies.map(StageModel.inputFile) + [loaded.tokenizer, loaded.prompts,
                                                                            loaded.task.appendingPathComponent("task.json")])
    }

    public static func execute(_ loaded: Loaded, parameters p: Parameters, stage: StageContext) throws -> PolicySelection {
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: loaded.tokenizer.path), template: p.template)
        let reference = try StageModel.load(loaded.reference, gradients: false)
        let judge = try PolicyValidation.validator(prompts: loaded.prompts, task: loaded.task, templated: templated,
                                                   settings: SamplingSettings(temperature: 0, maxNewTokens: p.maxNewTokens), seed: p.seed,
                                                   reference: reference, limit: p.limit)
        var candidates = [PolicySelection.Candidate.reference(PolicySelection.name(loaded.reference))]
        var sources = [loaded.reference]
        for url in loaded.candidates where url.standardizedFileURL != loaded.reference.standardizedFileURL {
            let model = try StageModel.load(url, gradients: false)
            guard model.config.vocabSize == reference.config.vocabSize else {
                throw StageError("select: \(url.path) has a vocabulary of \(model.config.vocabSize), the reference \(loaded.reference.path) "
                                 + "\(reference.config.vocabSize); candidates must share the reference's tokenizer")
            }
            let candidate = try PolicySelection.Candidate(name: PolicySelection.name(url), figures: judge(0, model))
            stage.log("select: \(candidate.name): annotator win rate \(String(format: "%.3f [%.3f, %.3f]", candidate.winRate, candidate.low, candidate.high)), "
                      + "safety \(String(format: "%.3f", candidate.safetyWinRate)), helpfulness \(String(format: "%.3f", candidate.helpfulnessWinRate))")
            candidates.append(candidate)
            sources.append(url)
        }
        let selection = PolicySelection(candidates: candidates, minSafetyWinRate: p.minSafetyWinRate,
                                        prompts: min(p.limit, try ResponseFile.loadPrompts(loaded.prompts).count))
        stage.log("select: \(selection.chosen): \(selection.reason)")
        // One candidate in memory at a time: the chosen one is loaded again to be written.
        let chosen = selection.chosenIndex == 0 ? reference : try StageModel.load(sources[selection.chosenIndex], gradients: false)
        try StageModel.save(chosen, to: stage.writer)
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try pretty.encode(selection).write(to: stage.directory.appendingPathComponent(PolicySelection.file), options: .atomic)
        try stage.recordWrittenFiles()
        return selection
    }
}
