// `plumb screen`: TigerBot's harmful-content screen over shards of responses (METHODS.md section 8).
//   1. lexicon, for recall: a response holding any entry of the word/phrase list is a candidate;
//   2. classifier, for precision (when a safety reward model is given): a candidate is flagged only
//      when the model's gate also says unsafe, sigmoid(score) < threshold (Llama 2's 0.15).
// Without a model the lexicon's candidates are flagged. Screened per record: a demonstration's or
// labelled response's `response`, a comparison's `chosen` (the response training would imitate or
// prefer; an unsafe rejected response is what a safety pair is made of, so it stays). Passing
// records are written under their set's name, flagged ones to `quarantine` with the reason, the
// step that flagged them and what it saw. On labelled responses (`safe` present) the stage reports
// precision and recall of the lexicon alone, of lexicon then classifier, and of the classifier alone.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore

extension StageKind {
    public static let screen: StageKind = "screen"
}

public enum SafetyScreenStage: Stage {
    public static let kind = StageKind.screen
    public static let abstract = "Screen record sets for unsafe content: the lexicon, then a safety reward model's gate; flagged records to quarantine."
    public static let rerun = StageRerun.replace
    public static let slots = [
        InputSlot("data", .oneOrMore, "Stages whose demonstrations-*, comparisons-* and labelled-responses-* sets (or the named outputs) to screen."),
        InputSlot("lexicon", .one, "The safety lexicon (one term per line)."),
        InputSlot("model", .optional, "A safety reward-model stage as the classifier (needs its tokenizer)."),
        InputSlot("tokenizer", .optional, "SentencePiece model of the classifier."),
    ]

    public struct Parameters: StageParameters, Equatable {
        /// Output sets to screen; empty = every demonstrations-*, comparisons-* and labelled-responses-* set.
        public var outputs: [String] = []
        public var threshold: Double = 0.15
        public var seqLen: Int?
        public var template: ChatTemplate = .plumbline
        public init() {}
    }

    public struct SetCounts: Codable, Equatable, Sendable {
        public var screened: Int, lexiconHits: Int, flagged: Int
    }

    public struct Summary: StageSummary {
        public var sets: [String: SetCounts] = [:]
        public var figures = ScreenFigures()

        public var metrics: [String: Double] {
            var out = figures.metrics
            for (name, counts) in sets {
                out["screened.\(name)"] = Double(counts.screened)
                out["lexicon_hits.\(name)"] = Double(counts.lexiconHits)
                out["flagged.\(name)"] = Double(counts.flagged)
            }
            return out
        }
    }

    public struct Loaded {
        var sets: [LocatedShardSet]
        var lexicon: SafetyLexicon
        var model: URL?, tokenizer: URL?
    }

    /// The fields the screen reads; the record passes through as JSON.
    struct ScreenFields: Decodable {
        var prompt: Prompt?
        var response: String?
        var chosen: String?
        var chosenHistory: [Message]?
        var safe: Bool?
        enum CodingKeys: String, CodingKey { case prompt, response, chosen, safe, chosenHistory = "chosen_history" }
    }

    /// A flagged record as written to `quarantine`.
    struct FlaggedRecord: Encodable {
        var schema = "screened/1"
        var reason = "unsafe_content"
        var step: String
        var detail: String
        var set: String
        var source: String
        var record: JSONValue
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let data = inputs.all("data"), lexiconFile = try inputs.one("lexicon"), model = inputs.optional("model"), tokenizer = inputs.optional("tokenizer")
        let sets = try data.flatMap { try ShardLocator.locate($0) }.filter { set in
            parameters.outputs.isEmpty ? ["demonstrations-", "comparisons-", "labelled-responses-"].contains { set.name.hasPrefix($0) }
                                       : parameters.outputs.contains(set.name)
        }
        guard !sets.isEmpty else { throw StageError("screen: no matching output sets in \(data.map(\.path).joined(separator: ", "))") }
        if let name = Dictionary(grouping: sets, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw StageError("screen: output set '\(name)' appears in more than one input; screen one stage at a time")
        }
        guard (model == nil) == (tokenizer == nil) else { throw StageError("screen: a classifier model needs its tokenizer, and only then") }
        let lexicon = try SafetyLexicon(file: lexiconFile.path)
        let modelInputs = model.map { [tokenizer!, StageModel.inputFile($0)] } ?? []
        return Prepared(Loaded(sets: sets, lexicon: lexicon, model: model, tokenizer: tokenizer),
                        files: [lexiconFile] + modelInputs + sets.flatMap(\.files))
    }

    public static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> Summary {
        let classifier = try loaded.model.map { try ScreenClassifier(model: $0, tokenizer: loaded.tokenizer!, parameters: parameters) }
        var summary = Summary()
        var flagged: [FlaggedRecord] = []
        for set in loaded.sets {
            let (screened, hits, flaggedCount) = try screen(set, lexicon: loaded.lexicon, classifier: classifier, threshold: parameters.threshold,
                                                           into: stage.writer, flagged: &flagged, figures: &summary.figures)
            summary.sets[set.name] = SetCounts(screened: screened, lexiconHits: hits, flagged: flaggedCount)
        }
        let writer = try stage.writer.shardWriter(name: "quarantine")
        for record in flagged { try writer.append(record) }
        try stage.writer.addOutput(name: "quarantine", files: try writer.finish())
        return summary
    }

    /// Screens one set: writes its passing records, collects the flagged ones, counts the labelled.
    static func screen(_ set: LocatedShardSet, lexicon: SafetyLexicon, classifier: ScreenClassifier?, threshold: Double,
                       into stage: StageWriter, flagged: inout [FlaggedRecord], figures: inout ScreenFigures) throws -> (Int, Int, Int) {
        let reader = ShardReader(files: set.files)
        let decoder = JSONDecoder()
        var items: [(object: JSONValue, place: String, prompt: [Message], text: String, safe: Bool?, hits: [String])] = []
        while let line = try reader.nextData() {
            let place = "\(reader.position.file?.lastPathComponent ?? set.name) record \(reader.position.record)"
            guard let object = try? decoder.decode(JSONValue.self, from: line), let fields = try? decoder.decode(ScreenFields.self, from: line),
                  let prompt = fields.prompt else {
                throw StageError("screen: \(place): not a JSON object with a 'prompt' field")
            }
            guard let text = fields.response ?? fields.chosen else {
                throw StageError("screen: \(place): has neither 'response' nor 'chosen'; nothing to screen")
            }
            let messages = prompt.messages + (fields.response == nil ? fields.chosenHistory ?? [] : [])
            items.append((object, place, messages, text, fields.safe, lexicon.matches(text)))
        }
        // The classifier scores the lexicon's candidates, and every labelled response (for its own figures).
        let scored = items.indices.filter { classifier != nil && (!items[$0].hits.isEmpty || items[$0].safe != nil) }
        let scores = try classifier?.scores(scored.map { (items[$0].prompt, items[$0].text) }) ?? []
        var gate: [Int: Double] = [:]
        for (index, score) in zip(scored, scores) { gate[index] = 1 / (1 + exp(-Double(score))) }
        let writer = try stage.shardWriter(name: set.name)
        var flaggedCount = 0
        for (index, item) in items.enumerated() {
            let classifierFlags = gate[index].map { $0 < threshold }
            if let safe = item.safe { figures.add(safe: safe, lexiconHit: !item.hits.isEmpty, classifierFlags: classifierFlags) }
            guard !item.hits.isEmpty, classifierFlags ?? true else { try writer.append(item.object); continue }
            flaggedCount += 1
            var detail = "lexicon: " + item.hits.joined(separator: ", ")
            if let p = gate[index] { detail += String(format: "; classifier: sigmoid(score) %.3f < %.2f", p, threshold) }
            flagged.append(FlaggedRecord(step: classifier == nil ? "lexicon" : "classifier", detail: detail, set: set.name,
                                         source: item.place, record: item.object))
        }
        try stage.addOutput(name: set.name, files: try writer.finish())
        return (items.count, items.filter { !$0.hits.isEmpty }.count, flaggedCount)
    }
}

/// The screen's classifier: a safety reward model's scores for (prompt, response) pairs.
struct ScreenClassifier {
    let scorer: RewardScorer
    let templated: TemplatedTokenizer
    let seqLen: Int

    init(model: URL, tokenizer: URL, parameters: SafetyScreenStage.Parameters) throws {
        let likelihood = try RewardLikelihoodTerm.load(from: model)
        let loaded = try StageModel.load(model, heads: likelihood.heads)
        templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: parameters.template)
        seqLen = parameters.seqLen ?? loaded.config.maxSeqLen
        scorer = try RewardScorer(model: loaded, seqLen: seqLen, padToken: templated.info.eosID, likelihood: likelihood)
    }

    func scores(_ pairs: [(prompt: [Message], response: String)]) throws -> [Float] {
        guard !pairs.isEmpty else { return [] }
        var truncated = 0
        let sequences = try pairs.map { try RewardPairs.sequence(prompt: $0.prompt, response: $0.response, templated: templated, seqLen: seqLen, truncated: &truncated) }
        return try scorer.scores(sequences.map(\.tokens), responseStarts: sequences.map(\.responseStart))
    }
}
