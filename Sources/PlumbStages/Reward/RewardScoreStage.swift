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

public enum RewardScoreStage {
    public struct Parameters: Codable, Equatable, Sendable {
        /// Output sets to score; empty = every `demonstrations-*` and `comparisons-*` set.
        public var outputs: [String] = []
        public var seqLen: Int?
        public var template: ChatTemplate = .plumbline
        public init() {}
    }

    public struct Inputs: Sendable {
        public var tokenizer: URL
        public var model: URL
        /// Stage directories or shard paths.
        public var data: [URL]
        public init(tokenizer: URL, model: URL, data: [URL]) {
            self.tokenizer = tokenizer
            self.model = model
            self.data = data
        }
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

    struct ResolvedConfig: Encodable {
        var parameters: Parameters
        var model: String
    }

    /// Scores every chosen set; returns records scored per output set.
    public static func run(_ parameters: Parameters, inputs: Inputs, location: StageLocation) throws -> [String: Int] {
        let sets = try inputs.data.flatMap { try ShardLocator.locate($0) }.filter { set in
            parameters.outputs.isEmpty ? set.name.hasPrefix("demonstrations-") || set.name.hasPrefix("comparisons-")
                                       : parameters.outputs.contains(set.name)
        }
        guard !sets.isEmpty else { throw StageError("rm score: no matching output sets in \(inputs.data.map(\.path).joined(separator: ", "))") }
        if let name = Dictionary(grouping: sets, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw StageError("rm score: output set '\(name)' appears in more than one input; score one stage at a time")
        }
        let stage = try StageWriter.begin(runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: "rm-score",
                                          config: ResolvedConfig(parameters: parameters, model: inputs.model.path),
                                          inputs: [inputs.tokenizer, StageModel.inputFile(inputs.model)] + sets.flatMap(\.files),
                                          replaceComplete: true)
        return try stage.finish {
            let likelihood = try RewardLikelihoodTerm.load(from: inputs.model)
            let model = try StageModel.load(inputs.model, heads: likelihood.heads)
            let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: inputs.tokenizer.path), template: parameters.template)
            let seqLen = parameters.seqLen ?? model.config.maxSeqLen
            let scorer = try RewardScorer(model: model, seqLen: seqLen, padToken: templated.info.eosID, likelihood: likelihood)
            var counts: [String: Int] = [:]
            for set in sets {
                counts[set.name] = try scoreSet(set, scorer: scorer, templated: templated, seqLen: seqLen, into: stage)
                stage.setMetric("scored.\(set.name)", Double(counts[set.name]!))
            }
            return counts
        }
    }

    /// Reads one set, scores its responses, writes the set with scores added.
    static func scoreSet(_ set: LocatedShardSet, scorer: RewardScorer, templated: TemplatedTokenizer, seqLen: Int,
                         into stage: StageWriter) throws -> Int {
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
        guard let recordScores else { return objects.count }
        let writer = try stage.shardWriter(name: set.name)
        for ((object, fieldNames), scores) in zip(zip(objects, keys), recordScores) {
            var scored = object
            for (name, score) in zip(fieldNames, scores) { scored[name] = .number(Double(score)) }
            try writer.append(JSONValue.object(scored))
        }
        try stage.addOutput(name: set.name, files: try writer.finish())
        stage.setMetric("truncated.\(set.name)", Double(truncated))
        return objects.count
    }
}
