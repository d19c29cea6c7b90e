// `plumb rm score`: adds a reward model's scores to shards of (prompt, response) records and writes
// them as a new stage, one output set per input set, same names, records otherwise unchanged:
//   a record with `response` (a demonstration)           gains "score"
//   a record with `chosen` and `rejected` (a comparison) gains "chosen_score" and "rejected_score"
// Records keep their schema (the added fields are optional extras readers ignore). A record with
// neither shape, or without a `prompt`, is an error naming the shard file and record.
// Distributed (`Distributed.world` of N ranks): rank r scores the records i ≡ r (mod N) of each set and
// rank 0, gathering the scores back in record order, alone writes the shards (the bytes one process
// writes: a score depends on its own sequence only).
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

extension StageKind {
    public static let rmScore: StageKind = "rm score"
}

public enum RewardScoreStage: Stage {
    public static let kind = StageKind.rmScore
    public static let abstract = "Score the responses of record sets with a reward model; writes the sets with scores added."
    public static let rerun = StageRerun.replace
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
        InputSlot("model", .one, "The reward model."),
        InputSlot("data", .oneOrMore, "Stages whose demonstrations-* / comparisons-* sets (or the named outputs) to score."),
    ]

    public struct Parameters: StageParameters, Equatable {
        /// Output sets to score; empty = every `demonstrations-*` and `comparisons-*` set.
        public var outputs: [String] = []
        public var seqLen: Int?
        public var template: ChatTemplate = .plumbline
        public init() {}
    }

    public struct Summary: StageSummary {
        /// Records scored per output set, and responses whose prompt start was cut to fit.
        public var scored: [String: Int]
        public var truncated: [String: Int]
        public var metrics: [String: Double] {
            var out: [String: Double] = [:]
            for (name, count) in scored { out["scored.\(name)"] = Double(count) }
            for (name, count) in truncated { out["truncated.\(name)"] = Double(count) }
            return out
        }
    }

    public struct Loaded {
        var sets: [LocatedShardSet]
        var tokenizer: URL, model: URL
    }

    /// The fields scoring needs; the rest of the record passes through as JSON.
    struct ScorableFields: Decodable {
        var prompt: Prompt?
        var response: String?
        var chosen: String?
        var rejected: String?
        /// Each side's own earlier turns in a multi-turn comparison (ComparisonDetails).
        var chosenHistory: [Message]?
        var rejectedHistory: [Message]?
        enum CodingKeys: String, CodingKey {
            case prompt, response, chosen, rejected, chosenHistory = "chosen_history", rejectedHistory = "rejected_history"
        }
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let tokenizer = try inputs.one("tokenizer"), model = try inputs.one("model"), data = inputs.all("data")
        let sets = try data.flatMap { try ShardLocator.locate($0) }.filter { set in
            parameters.outputs.isEmpty ? set.name.hasPrefix("demonstrations-") || set.name.hasPrefix("comparisons-")
                                       : parameters.outputs.contains(set.name)
        }
        guard !sets.isEmpty else { throw StageError("rm score: no matching output sets in \(data.map(\.path).joined(separator: ", "))") }
        if let name = Dictionary(grouping: sets, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw StageError("rm score: output set '\(name)' appears in more than one input; score one stage at a time")
        }
        return Prepared(Loaded(sets: sets, tokenizer: tokenizer, model: model),
                        files: [tokenizer, StageModel.inputFile(model)] + sets.flatMap(\.files))
    }

    /// Scores every chosen set.
    public static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> Summary {
        let likelihood = try RewardLikelihoodTerm.load(from: loaded.model)
        let model = try StageModel.load(loaded.model, heads: likelihood.heads)
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: loaded.tokenizer.path), template: parameters.template)
        let seqLen = parameters.seqLen ?? model.config.maxSeqLen
        let scorer = try RewardScorer(model: model, seqLen: seqLen, padToken: templated.info.eosID, likelihood: likelihood)
        var summary = Summary(scored: [:], truncated: [:])
        for set in loaded.sets {
            (summary.scored[set.name], summary.truncated[set.name]) = try scoreSet(set, scorer: scorer, templated: templated, seqLen: seqLen,
                                                                                   into: stage.writer)
        }
        return summary
    }

    /// Reads one set, scores its responses, writes the set with scores added.
    static func scoreSet(_ set: LocatedShardSet, scorer: RewardScorer, templated: TemplatedTokenizer, seqLen: Int,
                         into stage: StageWriter) throws -> (scored: Int, truncated: Int) {
        let reader = ShardReader(files: set.files)
        let decoder = JSONDecoder()
        var objects: [[String: JSONValue]] = []
        var sequences: [RewardSequence] = []
        var keys: [[String]] = []   // which fields each record's scores go to, in sequence order
        var truncated = 0
        while let line = try reader.nextData() {
            let place = "\(reader.position.file?.path ?? set.name) record \(reader.position.record)"
            guard case .object(let object)? = try? decoder.decode(JSONValue.self, from: line),
                  let fields = try? decoder.decode(ScorableFields.self, from: line), let prompt = fields.prompt else {
                throw StageError("\(place): not a JSON object with a 'prompt' field")
            }
            let responses: [(String, String, [Message])]
            if let response = fields.response {
                responses = [("score", response, [])]
            } else if let chosen = fields.chosen, let rejected = fields.rejected {
                responses = [("chosen_score", chosen, fields.chosenHistory ?? []), ("rejected_score", rejected, fields.rejectedHistory ?? [])]
            } else {
                throw StageError("\(place): has neither 'response' nor 'chosen' and 'rejected'; nothing to score")
            }
            for (_, text, history) in responses {
                sequences.append(try RewardPairs.sequence(prompt: prompt.messages + history, response: text, templated: templated,
                                                          seqLen: seqLen, truncated: &truncated))
            }
            objects.append(object)
            keys.append(responses.map(\.0))
        }
        var firstSequence: [Int] = []
        var position = 0
        for fieldNames in keys { firstSequence.append(position); position += fieldNames.count }
        let recordScores = try Sharding.gatherInOrder(count: objects.count, world: Distributed.world) { mine -> [[Float]] in
            let chosen = mine.flatMap { r in (0..<keys[r].count).map { sequences[firstSequence[r] + $0] } }
            let flat = try scorer.scores(chosen.map(\.tokens), responseStarts: chosen.map(\.responseStart))
            var next = 0
            return mine.map { r in defer { next += keys[r].count }; return Array(flat[next..<next + keys[r].count]) }
        }
        guard let recordScores else { return (objects.count, truncated) }
        let writer = try stage.shardWriter(name: set.name)
        for ((object, fieldNames), scores) in zip(zip(objects, keys), recordScores) {
            var scored = object
            for (name, score) in zip(fieldNames, scores) { scored[name] = .number(Double(score)) }
            try writer.append(JSONValue.object(scored))
        }
        try stage.addOutput(name: set.name, files: try writer.finish())
        return (objects.count, truncated)
    }
}
