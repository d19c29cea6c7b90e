// Each sample of an rs stage with the oracle's verdict on it, the scores the stage stored, and
// optionally the raw scores of further reward models on the same (prompt, response) sequences
// (`plumb eval sample-scores`): the raw material of over-optimisation curves (best-of-k under any
// selector, unbiased over all k-subsets) and of on-policy reward-model accuracy, computed outside
// (pipelines/overopt/). The extra models re-encode the sample's text under the chat template, where
// the rs stage scored the sampled tokens; a model named with the stage's own models measures how far
// the two agree. Evaluation only: lives in PlumbEval, which may import the oracle.
import Foundation
import PlumbData
import PlumbOracle
import PlumbStages

public struct SampleScoreRow: Codable, Sendable {
    public var promptID: String
    public var sample: Int
    public var tokens: Int
    public var finished: Bool
    public var safetyPrompt: Bool
    /// The rs stage's raw helpfulness and safety scores and combined logit.
    public var helpfulness: Float
    public var safety: Float
    public var combined: Float
    /// TaskKind's raw value: the prompt's family (e.g. `borderline` for a look-alike).
    public var kind: String
    public var goldScore: Double
    public var refused: Bool
    public var correct: Bool
    public var words: Int
    public var helpful: Bool
    public var violation: Bool
    public var falseRefusal: Bool
    /// Raw score of each `--model NAME=DIR`.
    public var scores: [String: Float]

    enum CodingKeys: String, CodingKey {
        case promptID = "prompt_id", sample, tokens, finished, safetyPrompt = "safety_prompt", helpfulness, safety, combined, kind
        case goldScore = "gold_score", refused, correct, words, helpful, violation, falseRefusal = "false_refusal", scores
    }
}

public enum SampleScores {
    /// A reward model to score every sample with: its name in `scores`, its stage directory.
    public struct Model: Sendable {
        public var name: String
        public var directory: URL
        public init(name: String, directory: URL) { self.name = name; self.directory = directory }
    }

    /// Every sample of the rs stage `stage`, judged; with `tokenizer`, each of `models` scores every
    /// sample (an ensemble also as NAME#i per member and NAME@RULE per conservative rule).
    public static func rows(stage: URL, tokenizer: URL?, template: ChatTemplate, models: [Model], conservative rules: [ConservativeRule],
                            log: (String) -> Void = { _ in }) throws -> [SampleScoreRow] {
        let read = try StageRecordReader.read(RejectionSample.self, output: "samples", from: [stage], schema: RejectionSample.schema)
        var rows = try read.records.map(judged)
        guard let tokenizer else { return rows }
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: template)
        let sequences = try read.records.map { try templated.encode(prompt: $0.prompt.messages, response: $0.text) }
        for spec in models {
            let clock = Date()
            let ensemble = try RewardEnsemble.load(from: spec.directory)
            let scorer = try EnsembleScorer(stage: spec.directory, rule: ensemble.map { _ in ConservativeRule.mean }, eos: templated.info.eosID)
            let members = try scorer.memberScores(sequences)
            for i in rows.indices { rows[i].scores[spec.name] = members[0][i] }
            if let ensemble {
                for m in members.indices { for i in rows.indices { rows[i].scores["\(spec.name)#\(m)"] = members[m][i] } }
                for rule in rules {
                    let combined = EnsembleScorer.combine(members, scales: ensemble.members.map(\.scale), rule: rule)
                    for i in rows.indices { rows[i].scores["\(spec.name)@\(rule)"] = combined[i] }
                }
            }
            log(String(format: "sample-scores: %@ (%d member(s)) scored %d samples in %.1f s",
                       spec.name, members.count, sequences.count, Date().timeIntervalSince(clock)))
        }
        return rows
    }

    /// The rows as JSONL (keys sorted), written atomically.
    public static func write(_ rows: [SampleScoreRow], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = Data()
        for row in rows { text += try encoder.encode(row); text += Data("\n".utf8) }
        try text.write(to: url, options: .atomic)
    }

    static func judged(_ s: RejectionSample) throws -> SampleScoreRow {
        let v = try OracleJudge.judge(prompt: BestOfK.userText(s), response: s.text)
        return SampleScoreRow(promptID: s.promptID, sample: s.sample, tokens: s.tokens, finished: s.finished, safetyPrompt: s.safetyPrompt,
                              helpfulness: s.helpfulness, safety: s.safety, combined: s.combined, kind: v.kind.rawValue,
                              goldScore: v.score, refused: v.quality.refused, correct: v.quality.correct, words: v.quality.wordCount,
                              helpful: v.helpful, violation: v.violation, falseRefusal: v.falseRefusal, scores: [:])
    }
}
