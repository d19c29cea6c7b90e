import Foundation
import PlumbStore

/// UltraFeedback. Raw rows (`instruction`, `completions` with ratings) become a ranking by the
/// completions' `fine-grained_score` (else `overall_score`), ties allowed. Binarized rows (`chosen`
/// and `rejected` conversations with `score_chosen`/`score_rejected`) become a comparison whose
/// margin is the score difference.
enum UltraFeedbackImporter {
    static func convertRaw(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt = Prompt(messages: [.user(try fields.string("instruction"))])
        var responses: [String] = []
        var scores: [Double] = []
        for (index, item) in try fields.array("completions").enumerated() {
            let completion = try RowFields(item)
            let field = "completions[\(index)]"
            do {
                responses.append(try completion.string("response"))
                scores.append(try completion.optionalNumber("fine-grained_score") ?? completion.number("overall_score"))
            } catch var problem as RowProblem {
                problem.field = "\(field).\(problem.field ?? "")"
                throw problem
            }
        }
        let ranking = Ranking(id: context.id(), prompt: prompt, responses: responses, ranks: denseRanks(scores: scores),
                              dimension: context.options.defaultDimension, source: context.source)
        return [.ranking(ranking)]
    }

    static func convertBinarized(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let split = try FieldParsing.splitImplicit(chosen: try fields.messages("chosen"), rejected: try fields.messages("rejected"))
        let margin = try fields.number("score_chosen") - fields.number("score_rejected")
        let comparison = Comparison(
            id: context.id(), prompt: Prompt(id: try fields.optionalText("prompt_id"), messages: split.prompt),
            chosen: split.chosen, rejected: split.rejected, dimension: context.options.defaultDimension,
            strength: .margin(margin), source: context.source)
        return [.comparison(comparison)]
    }

    /// Rank 1 for the highest score; equal scores share a rank; ranks are consecutive.
    static func denseRanks(scores: [Double]) -> [Int] {
        let distinct = Array(Set(scores)).sorted(by: >)
        return scores.map { score in distinct.firstIndex(of: score)! + 1 }
    }
}
