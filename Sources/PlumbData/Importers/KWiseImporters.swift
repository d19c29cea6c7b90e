import Foundation
import PlumbStore

/// Stack Exchange preferences (`HuggingFaceH4/stack-exchange-preferences`): `qid`, `question`
/// (HTML), `answers` [{`answer_id`, `text` (HTML), `pm_score`, `selected`, `author`}]. One
/// question gives one ranking of its answers by `pm_score` (higher first, equal scores tie), with
/// the scores kept so that the pairs derived from it carry the score gap as their margin, and
/// `selected` (the asker's accepted answer) kept as a label. HTML becomes text (`HTMLText`); a
/// body that does not parse quarantines the row `invalid_html` naming it. A question with fewer
/// than two answers gives nothing and is counted in `skipped` (`single_answer`).
enum StackExchangeImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> Importer.RowOutput {
        let question = try html(try fields.string("question"), field: "question")
        let answers = try fields.array("answers")
        guard answers.count >= 2 else { return Importer.RowOutput(records: [], skipped: ["single_answer": answers.count]) }
        var texts: [String] = [], scores: [Double] = [], labels: [[String: Double]] = []
        for (index, item) in answers.enumerated() {
            let answer = try RowFields(item)
            let field = "answers[\(index)]"
            texts.append(try html(try answer.string("text"), field: field + ".text"))
            scores.append(try ColumnNames.namingField(field) { try answer.number("pm_score") })
            labels.append(["selected": try answer.optionalBool("selected") == true ? 1 : 0])
        }
        let id = try fields.optionalText("qid").map { "se-\($0)" } ?? context.id()
        let ranking = Ranking(id: id, prompt: Prompt(messages: [.user(question)]), responses: texts, ranks: denseRanks(scores),
                              dimension: context.options.defaultDimension, scores: scores, labels: labels, source: context.source)
        return Importer.RowOutput(records: [.ranking(ranking)])
    }

    /// 1 for the highest score, equal scores share a rank, the next score takes the next rank.
    static func denseRanks(_ scores: [Double]) -> [Int] {
        let distinct = Array(Set(scores)).sorted(by: >)
        return scores.map { score in distinct.firstIndex(of: score)! + 1 }
    }

    private static func html(_ text: String, field: String) throws -> String {
        do {
            return try HTMLText.text(text)
        } catch let problem as HTMLText.Problem {
            throw RowProblem(.invalidHTML, field: field, "the HTML of '\(field)' does not parse: \(problem.detail)")
        }
    }
}

/// Nectar-style k-wise rankings (`berkeley-nest/Nectar`): `prompt` as an HH transcript
/// ("\n\nHuman: ...\n\nAssistant:"), `answers` [{`answer`, `model`, `rank`}] with rank 1 best.
/// One ranking per row; rank gaps give the derived pairs' strengths.
enum NectarImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt = try self.prompt(try fields.string("prompt"))
        var responses: [String] = [], ranks: [Int] = []
        for (index, item) in try fields.array("answers").enumerated() {
            let answer = try RowFields(item)
            let field = "answers[\(index)]"
            responses.append(try ColumnNames.namingField(field) { try answer.string("answer") })
            let rank = try ColumnNames.namingField(field) { try answer.number("rank") }
            guard rank >= 1, rank == rank.rounded() else {
                throw RowProblem(.invalidValue, field: field + ".rank", "'\(field).rank' is \(rank), expected a whole number from 1 (best)")
            }
            ranks.append(Int(rank))
        }
        return [.ranking(Ranking(id: try fields.optionalText("id") ?? context.id(), prompt: Prompt(messages: prompt),
                                 responses: responses, ranks: ranks, dimension: context.options.defaultDimension, source: context.source))]
    }

    /// The transcript's turns, without the empty assistant turn it ends with; plain text is one user turn.
    static func prompt(_ text: String) throws -> [Message] {
        guard text.contains("Human:") else { return [.user(text)] }
        var messages = try HHRLHFImporter.parse(Array(text.utf8)[...], field: "prompt")
        if let last = messages.last, last.role == .assistant, Validator.isBlank(last.content) { messages.removeLast() }
        guard messages.last?.role == .user else {
            throw RowProblem(.malformedTranscript, field: "prompt", "the prompt does not end with a Human turn")
        }
        return messages
    }
}

extension ColumnNames {
    /// Runs `body` on a nested object and prefixes its problems' fields with `prefix` (`answers[2].`).
    static func namingField<T>(_ prefix: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var problem as RowProblem {
            problem.field = problem.field.map { prefix + "." + $0 } ?? prefix
            problem.detail = problem.detail.replacingOccurrences(of: "field '", with: "field '\(prefix).")
            throw problem
        }
    }
}
