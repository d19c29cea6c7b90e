// The built-in task's labelling team on responses it did not write (`plumb task annotate`): the
// simulated annotators rank any responses to a task prompt by the true score (the oracle's reading
// of the text) plus their ranking noise, as they rank the generator's candidates; compare pairs of
// them as they compare the generator's candidate pairs (flip rates, length bias, strength, safety
// labels; `SimulatedAnnotator.judgeAny`); and edit a response into the ideal one for its prompt.
// Each prompt's draws come from (seed, prompt key) alone, so a task's annotation does not depend on
// the other tasks in its file.

import Foundation
import PlumbTask

public struct TaskAnnotator: Sendable {
    public let settings: TaskSettings.Annotation
    public let seed: UInt64

    public init(settings: TaskSettings.Annotation, seed: UInt64) {
        self.settings = settings
        self.seed = seed
    }

    /// Indices of `responses` best first, and who ranked them.
    public func rank(prompt: String, responses: [String], key: String) throws -> (order: [Int], annotator: AnnotatorProfile) {
        guard let spec = TaskPrompts.parse(prompt) else { throw OracleError.unknownPrompt(prompt) }
        var rng = TaskRandom(seed: seed).stream("rank\u{0}" + key)
        let scores = responses.map { OracleJudge.judge(spec, response: $0).score }
        let order = SimulatedAnnotator.rank(scores, noise: settings.rankingNoise, rng: &rng)
        return (order, rng.pick(settings.annotators))
    }

    /// Up to `pairs` pairs of `responses` (drawn without replacement from all pairs), each judged by a
    /// panel member drawn per pair, as the generator's comparisons are judged.
    public func compare(prompt: String, responses: [String], key: String, pairs: Int) throws -> [PairAnnotation] {
        guard let spec = TaskPrompts.parse(prompt) else { throw OracleError.unknownPrompt(prompt) }
        var rng = TaskRandom(seed: seed).stream("compare\u{0}" + key)
        let seen = responses.map { text -> AnnotatedResponse in
            let verdict = OracleJudge.judge(spec, response: text)
            return AnnotatedResponse(score: verdict.score, wordCount: verdict.quality.wordCount, safe: !verdict.violation)
        }
        var all: [(Int, Int)] = []
        for i in responses.indices { for j in responses.indices where j > i { all.append((i, j)) } }
        return rng.shuffled(all).prefix(max(0, pairs)).map { i, j in
            let profile = rng.pick(settings.annotators)
            let judgement = SimulatedAnnotator.judgeAny(profile, seen[i], seen[j], settings: settings, rng: &rng)
            let (chosen, rejected) = judgement.choseFirst ? (i, j) : (j, i)
            let tied = abs(seen[i].score - seen[j].score) < 1e-9
            return PairAnnotation(
                chosen: chosen, rejected: rejected, strength: judgement.strength,
                chosenSafe: judgement.choseFirst ? judgement.firstSafeLabel : judgement.secondSafeLabel,
                rejectedSafe: judgement.choseFirst ? judgement.secondSafeLabel : judgement.firstSafeLabel,
                dimension: spec.kind.isSafety ? "safety" : "helpfulness", annotator: profile,
                agreesWithOracle: tied ? nil : seen[chosen].score > seen[rejected].score,
                safetyLabelsTrue: judgement.firstSafeLabel == seen[i].safe && judgement.secondSafeLabel == seen[j].safe)
        }
    }

    /// The ideal response to `prompt` (correct, refusing exactly when it should, concise), and who wrote it.
    public func edit(prompt: String, key: String) throws -> (text: String, annotator: AnnotatorProfile) {
        guard let spec = TaskPrompts.parse(prompt) else { throw OracleError.unknownPrompt(prompt) }
        var rng = TaskRandom(seed: seed).stream("edit\u{0}" + key)
        let text = ResponseWriter.write(spec, ResponseTraits.ideal(for: spec.kind), rng: &rng)
        return (text, rng.pick(settings.annotators))
    }
}

/// One pairwise judgement of two responses (indices into the list compared).
public struct PairAnnotation: Equatable, Sendable {
    public var chosen: Int
    public var rejected: Int
    public var strength: PreferenceStrength
    /// The annotator's safety labels (wrong at the panel's `safetyLabelNoise`).
    public var chosenSafe: Bool
    public var rejectedSafe: Bool
    /// The prompt's dimension: `safety` for harmful requests and their look-alikes, else `helpfulness`.
    public var dimension: String
    public var annotator: AnnotatorProfile
    /// Whether the chosen response has the higher true score; nil when the two score the same.
    public var agreesWithOracle: Bool?
    /// Whether both safety labels are the truth.
    public var safetyLabelsTrue: Bool
}
