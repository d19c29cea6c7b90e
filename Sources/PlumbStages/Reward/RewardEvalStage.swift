// `plumb rm eval`: scores held-out comparisons with a reward model and writes the figures
// (RewardEvaluation) into a stage manifest's metrics, where later stages read the score statistics
// to whiten rewards. Reads the `comparisons-<split>` outputs of import stages (default: test), and
// writes each comparison with its `chosen_score` and `rejected_score` as the output `scored-<split>`.
//
// A policy's own likelihood can stand in for the reward head (`scoring`), the same tables then say
// how well it ranks the pairs: log pi(y|x) summed or averaged over the response's tokens, or with a
// reference policy DPO's implicit reward beta * (log pi(y|x) - log pi_ref(y|x)) (DPO eq. 7; TRL
// logs its accuracy as rewards/accuracies).
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

extension StageKind {
    public static let rmEval: StageKind = "rm eval"
}

public enum RewardEvalStage: Stage {
    public static let kind = StageKind.rmEval
    public static let abstract = "Score held-out comparisons with a reward model (or a policy's likelihood): accuracies, score statistics, the unsafe gate."
    public static let rerun = StageRerun.replace
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
        InputSlot("model", .one, "The reward model (or, with a likelihood scoring, the policy) to evaluate."),
        InputSlot("data", .oneOrMore, "Import stage with comparisons-<split> sets."),
        InputSlot("reference", .optional, "A reference policy for the likelihood scorings (DPO's implicit reward)."),
        InputSlot("labelled", .any, "Import stage whose labelled-responses-<split> measure the unsafe gate."),
    ]

    public struct Parameters: StageParameters, Equatable {
        public var split: Split = .test
        /// Tokens per row; nil = the model's window.
        public var seqLen: Int?
        public var template: ChatTemplate = .plumbline
        /// Llama 2's safety threshold on sigmoid(score).
        public var unsafeThreshold: Double = 0.15
        public var scoring: Scoring = .rewardHead
        /// beta of the implicit reward when a reference policy is given.
        public var beta: Double = 0.1
        public init() {}
    }

    /// What a response's score is.
    public enum Scoring: String, Codable, Sendable, CaseIterable {
        /// r = h_EOS . w_score (the reward model's head).
        case rewardHead = "reward-head"
        /// log pi(y|x), summed over the response's tokens (minus log pi_ref, times beta, with a reference).
        case likelihood
        /// log pi(y|x) / |y| (minus the reference's, times beta, with a reference).
        case meanLikelihood = "mean-likelihood"
        /// sum_t [log pi(y_t | ...) + H_t], each token centred on its expectation (CentredLogProbs).
        case centredLikelihood = "centred-likelihood"
    }

    public struct Loaded {
        var data: SourcedComparisons
        var labelled: [LabelledResponse]
        var tokenizer: URL, model: URL, reference: URL?
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let tokenizer = try inputs.one("tokenizer"), model = try inputs.one("model"), reference = inputs.optional("reference")
        let importStages = inputs.all("data"), labelledStages = inputs.all("labelled")
        let data = try SourcedComparisons.read(output: "comparisons-\(parameters.split.rawValue)", from: importStages)
        let labelled = try StageRecordReader.read(LabelledResponse.self, output: "labelled-responses-\(parameters.split.rawValue)", from: labelledStages)
        if !labelledStages.isEmpty {
            guard parameters.scoring == .rewardHead else { throw StageError("rm eval: labelled responses measure a reward head's gate; drop --labelled or use --scoring reward-head") }
            guard !labelled.records.isEmpty else {
                throw StageError("rm eval: no labelled-responses-\(parameters.split.rawValue) records in \(labelledStages.map(\.path).joined(separator: ", "))")
            }
        }
        if reference != nil && parameters.scoring == .rewardHead {
            throw StageError("rm eval: a reference policy needs a likelihood scoring (--scoring likelihood, mean-likelihood or centred-likelihood)")
        }
        guard !data.records.isEmpty else {
            throw StageError("rm eval: no comparisons-\(parameters.split.rawValue) records in \(importStages.map(\.path).joined(separator: ", "))")
        }
        return Prepared(Loaded(data: data, labelled: labelled.records, tokenizer: tokenizer, model: model, reference: reference),
                        files: [tokenizer, StageModel.inputFile(model)] + (reference.map { [StageModel.inputFile($0)] } ?? [])
                            + data.files + labelled.files)
    }

    public static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> RewardEvaluation {
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: loaded.tokenizer.path), template: parameters.template)
        let scored: [ScoredComparison]
        var gateResponses: [(score: Float, safe: Bool)]?
        if parameters.scoring == .rewardHead {
            let likelihood = try RewardLikelihoodTerm.load(from: loaded.model)
            let model = try StageModel.load(loaded.model, heads: likelihood.heads)
            scored = try score(loaded.data, model: model, likelihood: likelihood, templated: templated, parameters: parameters)
            if !loaded.labelled.isEmpty {
                gateResponses = try scoreLabelled(loaded.labelled, model: model, likelihood: likelihood, templated: templated, parameters: parameters)
            }
        } else {
            scored = try scoreByLikelihood(loaded.data, policy: loaded.model, reference: loaded.reference, templated: templated, parameters: parameters)
        }
        let writer = try stage.writer.shardWriter(name: "scored-\(parameters.split.rawValue)")
        for pair in scored { try writer.append(ScoredRecord(pair)) }
        try stage.writer.addOutput(name: "scored-\(parameters.split.rawValue)", files: try writer.finish())
        return RewardEvaluation(scored, unsafeThreshold: parameters.unsafeThreshold, gateResponses: gateResponses)
    }

    /// A comparison as evaluated: the record, then its two scores (the `scored-<split>` output).
    struct ScoredRecord: Encodable {
        let comparison: Comparison, chosenScore: Float, rejectedScore: Float
        init(_ pair: ScoredComparison) { comparison = pair.comparison; chosenScore = pair.chosenScore; rejectedScore = pair.rejectedScore }
        enum Keys: String, CodingKey { case chosenScore = "chosen_score", rejectedScore = "rejected_score" }
        func encode(to encoder: Encoder) throws {
            try comparison.encode(to: encoder)
            var keyed = encoder.container(keyedBy: Keys.self)
            try keyed.encode(chosenScore, forKey: .chosenScore)
            try keyed.encode(rejectedScore, forKey: .rejectedScore)
        }
    }

    /// Both responses of every comparison scored, in order.
    static func score(_ data: SourcedComparisons, model: LlamaModel, likelihood: RewardLikelihoodTerm, templated: TemplatedTokenizer,
                      parameters: Parameters) throws -> [ScoredComparison] {
        let seqLen = parameters.seqLen ?? model.config.maxSeqLen
        let pairs = try RewardPairs.encode(data.records, templated: templated, seqLen: seqLen, margins: .none)
        let scorer = try RewardScorer(model: model, seqLen: seqLen, padToken: templated.info.eosID, likelihood: likelihood)
        let all = Array(pairs.pairs.indices)
        let rewards = try scorer.scores(RewardBatches.interleaved(all, pairs: pairs.pairs),
                                        responseStarts: RewardBatches.interleavedResponseStarts(all, pairs: pairs.pairs))
        return data.records.indices.map { i in
            ScoredComparison(comparison: data.records[i], source: data.sources[i], chosenScore: rewards[2 * i], rejectedScore: rewards[2 * i + 1])
        }
    }

    /// Each labelled response's score, with its label, for the unsafe gate.
    static func scoreLabelled(_ records: [LabelledResponse], model: LlamaModel, likelihood: RewardLikelihoodTerm, templated: TemplatedTokenizer,
                              parameters: Parameters) throws -> [(score: Float, safe: Bool)] {
        let seqLen = parameters.seqLen ?? model.config.maxSeqLen
        let scorer = try RewardScorer(model: model, seqLen: seqLen, padToken: templated.info.eosID, likelihood: likelihood)
        var truncated = 0
        let sequences = try records.map { try RewardPairs.sequence(prompt: $0.prompt.messages, response: $0.response, templated: templated,
                                                                   seqLen: seqLen, truncated: &truncated) }
        let scores = try scorer.scores(sequences.map(\.tokens), responseStarts: sequences.map(\.responseStart))
        return zip(scores, records).map { ($0, $1.safe) }
    }

    /// Both responses of every comparison scored by the policy's likelihood (see `Scoring`).
    static func scoreByLikelihood(_ data: SourcedComparisons, policy: URL, reference: URL?, templated: TemplatedTokenizer,
                                  parameters: Parameters) throws -> [ScoredComparison] {
        let policyModel = try StageModel.load(policy, heads: .lm)
        let referenceModel = try reference.map { try StageModel.load($0, heads: .lm) }
        // One window for both, so that both see the same (possibly cut) prompts.
        let seqLen = parameters.seqLen ?? min(policyModel.config.maxSeqLen, referenceModel?.config.maxSeqLen ?? .max)
        var examples: [BatchLayout.Example] = []
        for c in data.records {
            for (prompt, response) in [(c.chosenPrompt, c.chosen), (c.rejectedPrompt, c.rejected)] {
                examples.append(try ResponseLikelihood.example(try templated.encode(prompt: prompt, response: response), seqLen: seqLen))
            }
        }
        func scores(_ model: LlamaModel) throws -> [Double] {
            let likelihood = try ResponseLikelihood(model: model, seqLen: seqLen, padToken: templated.info.eosID)
            return try likelihood.logLikelihoods(examples, centred: parameters.scoring == .centredLikelihood)
                .map { parameters.scoring == .meanLikelihood ? $0.logProb / Double(max($0.tokens, 1)) : $0.logProb }
        }
        var values = try scores(policyModel)
        if let referenceModel {
            values = zip(values, try scores(referenceModel)).map { parameters.beta * ($0 - $1) }
        }
        return data.records.indices.map { i in
            ScoredComparison(comparison: data.records[i], source: data.sources[i], chosenScore: Float(values[2 * i]), rejectedScore: Float(values[2 * i + 1]))
        }
    }
}
