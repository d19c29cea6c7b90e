// The built-in task's labelling team on responses it did not write (`plumb task annotate`): the
// simulated annotators rank any responses to a task prompt by the true score (the oracle's reading
// of the text) plus their ranking noise, as they rank the generator's candidates, and edit a
// response into the ideal one for its prompt. Each prompt's draws come from (seed, prompt key)
// alone, so a task's annotation does not depend on the other tasks in its file.

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

    /// The ideal response to `prompt` (correct, refusing exactly when it should, concise), and who wrote it.
    public func edit(prompt: String, key: String) throws -> (text: String, annotator: AnnotatorProfile) {
        guard let spec = TaskPrompts.parse(prompt) else { throw OracleError.unknownPrompt(prompt) }
        var rng = TaskRandom(seed: seed).stream("edit\u{0}" + key)
        let text = ResponseWriter.write(spec, ResponseTraits.ideal(for: spec.kind), rng: &rng)
        return (text, rng.pick(settings.annotators))
    }
}
