import Foundation
import PlumbStore

/// The Argilla user study in /work/shared/data/argilla (Ali1858/crs-rlhf): generations
/// (`humaneval_*_run_X.json`: `instruction` in ChatML and `response-1..3`) and, separately,
/// per-annotator rankings (`original-user-study-ws-run-N.json`: one list per prompt of
/// `{response-1: rank, ..., name, user_id}`), aligned by position. The rankings alone carry no
/// text, so they are joined with their generations file (`--texts`) into Argilla v1 records.
/// Generations alone give prompt records. The aggregated `final_*` orderings and `all_keys.json`
/// name generation methods, not responses, and are not imported.
enum ArgillaStudyImporter {
    static func convertResponses(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt = Prompt(messages: ChatML.messages(try fields.string("instruction")))
        return [.prompt(PromptRecord(prompt: prompt, source: context.source))]
    }

    /// One prompt's annotations joined with its generations row, as an Argilla v1 record.
    static func convertRankings(_ row: JSONValue, texts: [String: JSONValue]?, _ context: RowContext) throws -> [Record] {
        guard let texts else {
            throw RowProblem(.missingField, field: "texts", "rankings without texts: pass the generations file with --texts")
        }
        guard let annotations = row.arrayValue else {
            throw RowProblem(.wrongType, "expected a list of per-annotator rankings, found \(row.typeName)")
        }
        var responses: [JSONValue] = []
        for (index, item) in annotations.enumerated() {
            let annotation = try RowFields(item)
            let ranked = annotation.object.keys.filter { $0.hasPrefix("response-") }.sorted()
            guard !ranked.isEmpty else { throw RowProblem(.missingField, field: "[\(index)].response-1", "annotation \(index) ranks no responses") }
            let ranking = try ranked.map { key -> JSONValue in
                .object(["value": .string(key), "rank": .number(Double(try annotation.int(key)))])
            }
            let user = try annotation.optionalText("name") ?? annotation.optionalText("user_id") ?? "annotator-\(index)"
            responses.append(.object(["user_id": .string(user), "status": .string("submitted"),
                                      "values": .object(["ranking": .object(["value": .array(ranking)])])]))
        }
        let record = RowFields(object: ["fields": .object(texts), "responses": .array(responses)])
        return try ArgillaImporter.convert(record, context)
    }
}
