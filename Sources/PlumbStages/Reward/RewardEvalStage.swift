// `plumb rm eval`: scores held-out comparisons with a reward model and writes the figures
// (RewardEvaluation) into a stage manifest's metrics, where later stages read the score statistics
// to whiten rewards. Reads the `comparisons-<split>` outputs of import stages (default: test).
import Foundation
import PlumbData
import PlumbModel
import PlumbStore

public enum RewardEvalStage {
    public struct Parameters: Codable, Equatable, Sendable {
        public var split: Split = .test
        /// Tokens per row; nil = the model's window.
        public var seqLen: Int?
        public var rows: Int = 8
        public var template: ChatTemplate = .plumbline
        /// Llama 2's safety threshold on sigmoid(score).
        public var unsafeThreshold: Double = 0.15
        public init() {}
    }

    public struct Inputs: Sendable {
        public var tokenizer: URL
        public var model: URL
        public var importStages: [URL]
        public init(tokenizer: URL, model: URL, importStages: [URL]) {
            self.tokenizer = tokenizer
            self.model = model
            self.importStages = importStages
        }
    }

    struct ResolvedConfig: Encodable {
        var parameters: Parameters
        var model: String
    }

    public static func run(_ parameters: Parameters, inputs: Inputs, location: StageLocation) throws -> RewardEvaluation {
        let data = try SourcedComparisons.read(output: "comparisons-\(parameters.split.rawValue)", from: inputs.importStages)
        guard !data.records.isEmpty else {
            throw StageError("rm eval: no comparisons-\(parameters.split.rawValue) records in \(inputs.importStages.map(\.path).joined(separator: ", "))")
        }
        let stage = try StageWriter.begin(runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: "rm-eval",
                                          config: ResolvedConfig(parameters: parameters, model: inputs.model.path),
                                          inputs: [inputs.tokenizer, StageModel.inputFile(inputs.model)] + data.files, replaceComplete: true)
        return try stage.finish {
            let model = try StageModel.load(inputs.model, heads: .reward)
            let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: inputs.tokenizer.path), template: parameters.template)
            let scored = try score(data, model: model, templated: templated, parameters: parameters)
            let evaluation = RewardEvaluation(scored, unsafeThreshold: parameters.unsafeThreshold)
            for (k, v) in evaluation.metrics { stage.setMetric(k, v) }
            return evaluation
        }
    }

    /// Both responses of every comparison scored, in order.
    static func score(_ data: SourcedComparisons, model: LlamaModel, templated: TemplatedTokenizer,
                      parameters: Parameters) throws -> [ScoredComparison] {
        let seqLen = parameters.seqLen ?? model.config.maxSeqLen
        let pairs = try RewardPairs.encode(data.records, templated: templated, seqLen: seqLen, margins: .none)
        let scorer = try RewardScorer(model: model, rows: parameters.rows, seqLen: seqLen, padToken: templated.info.eosID)
        let rewards = try scorer.scores(RewardBatches.interleaved(Array(pairs.pairs.indices), pairs: pairs.pairs))
        return data.records.indices.map { i in
            ScoredComparison(comparison: data.records[i], source: data.sources[i], chosenScore: rewards[2 * i], rejectedScore: rewards[2 * i + 1])
        }
    }
}
