// `plumb eval sample-scores`: one JSONL line per sample of an rs stage with the oracle's verdict on it,
// the scores the stage stored, and optionally the raw scores of further reward models on the same
// (prompt, response) sequences. The raw material of over-optimisation curves (best-of-k under any
// selector, unbiased over all k-subsets) and of on-policy reward-model accuracy, computed outside
// (pipelines/overopt/). The extra models re-encode the sample's text under the chat template, where
// the rs stage scored the sampled tokens; `--model stored=...` with the stage's own models measures
// how far the two agree. Evaluation only: lives in the CLI, which may import the oracle.
import ArgumentParser
import Foundation
import PlumbData
import PlumbEval
import PlumbOracle
import PlumbStages

struct SampleScoreRow: Codable {
    var promptID: String
    var sample: Int
    var tokens: Int
    var finished: Bool
    var safetyPrompt: Bool
    /// The rs stage's raw helpfulness and safety scores and combined logit.
    var helpfulness: Float
    var safety: Float
    var combined: Float
    /// TaskKind's raw value: the prompt's family (e.g. `borderline` for a look-alike).
    var kind: String
    var goldScore: Double
    var refused: Bool
    var correct: Bool
    var words: Int
    var helpful: Bool
    var violation: Bool
    var falseRefusal: Bool
    /// Raw score of each `--model NAME=DIR`.
    var scores: [String: Float]

    enum CodingKeys: String, CodingKey {
        case promptID = "prompt_id", sample, tokens, finished, safetyPrompt = "safety_prompt", helpfulness, safety, combined, kind
        case goldScore = "gold_score", refused, correct, words, helpful, violation, falseRefusal = "false_refusal", scores
    }
}

struct EvalSampleScoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-scores",
        abstract: "Each sample of an rs stage with the oracle's verdict, its stored scores and further reward models' scores (JSONL).")
    @Option(help: "An rs stage directory.") var samples: String
    @Option(help: "SentencePiece model of the policy and the reward models (needed with --model).") var tokenizer: String?
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "A reward model to score every sample with, as NAME=STAGE_DIR (repeatable).") var model: [String] = []
    @Option(help: "For every --model that is an ensemble (rm train --ensemble), also write each member's raw score as NAME#i and the score under this conservative rule as NAME@RULE (repeatable): mean, mean-minus-std:LAMBDA, worst, uncertainty-weighted:LAMBDA.")
    var conservative: [String] = []
    @Option(help: "Output JSONL file.") var out: String

    func validate() throws {
        if !model.isEmpty && tokenizer == nil { throw ValidationError("--model needs --tokenizer") }
        for c in conservative { _ = try parseConservative(c) }
        for m in model where Self.parse(m) == nil { throw ValidationError("--model '\(m)': expected NAME=STAGE_DIR") }
    }

    static func parse(_ spec: String) -> (name: String, dir: URL)? {
        guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex else { return nil }
        return (String(spec[..<eq]), URL(fileURLWithPath: String(spec[spec.index(after: eq)...])))
    }

    func run() throws {
        let stage = URL(fileURLWithPath: samples).standardizedFileURL
        let read = try StageRecordReader.read(RejectionSample.self, output: "samples", from: [stage], schema: RejectionSample.schema)
        var rows = try read.records.map(Self.judged)
        if let tokenizer {
            let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer), template: template)
            let sequences = try read.records.map { try templated.encode(prompt: $0.prompt.messages, response: $0.text) }
            let rules = try conservative.map(parseConservative)
            for spec in model.compactMap(Self.parse) {
                let clock = Date()
                let ensemble = try RewardEnsemble.load(from: spec.dir)
                let scorer = try EnsembleScorer(stage: spec.dir, rule: ensemble.map { _ in ConservativeRule.mean }, eos: templated.info.eosID)
                let members = try scorer.memberScores(sequences)
                for i in rows.indices { rows[i].scores[spec.name] = members[0][i] }
                if let ensemble {
                    for m in members.indices { for i in rows.indices { rows[i].scores["\(spec.name)#\(m)"] = members[m][i] } }
                    for rule in rules {
                        let combined = EnsembleScorer.combine(members, scales: ensemble.members.map(\.scale), rule: rule)
                        for i in rows.indices { rows[i].scores["\(spec.name)@\(rule)"] = combined[i] }
                    }
                }
                FileHandle.standardError.write(Data(String(format: "sample-scores: %@ (%d member(s)) scored %d samples in %.1f s\n",
                                                           spec.name, members.count, sequences.count, Date().timeIntervalSince(clock)).utf8))
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = Data()
        for row in rows { text += try encoder.encode(row); text += Data("\n".utf8) }
        try text.write(to: URL(fileURLWithPath: out), options: .atomic)
    }

    static func judged(_ s: RejectionSample) throws -> SampleScoreRow {
        let v = try OracleJudge.judge(prompt: BestOfK.userText(s), response: s.text)
        return SampleScoreRow(promptID: s.promptID, sample: s.sample, tokens: s.tokens, finished: s.finished, safetyPrompt: s.safetyPrompt,
                              helpfulness: s.helpfulness, safety: s.safety, combined: s.combined, kind: v.kind.rawValue,
                              goldScore: v.score, refused: v.quality.refused, correct: v.quality.correct, words: v.quality.wordCount,
                              helpful: v.helpful, violation: v.violation, falseRefusal: v.falseRefusal, scores: [:])
    }
}
