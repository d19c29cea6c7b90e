import Foundation
import PlumbStore

/// A/B answers with an overall preference and per-aspect ones (`question`, `answer_a`, `answer_b`,
/// `overall_preference`, `factuality_preference`, `coherence_preference`, ..., `justification`;
/// HelpSteer3-style `response1` / `response2`). Vote values:
/// - numbers on a signed scale (HelpSteer3): negative prefers A, positive prefers B, 0 is a tie;
///   the magnitude 1 / 2 / >= 3 gives slightly better / better / significantly better;
/// - names: `a`, `b` (or the A / B column names, `model_a`, `answer_a`, ...), `tie`, `equal`,
///   `both`, `neither`.
/// The overall vote decides chosen / rejected (or the aspect named by `ImportOptions.aspect`); the
/// other votes travel as `aspects`, relative to the chosen response. Null or NaN aspect votes are
/// left out; a null deciding vote is a `missing_field`.
enum PairwiseAspectsImporter {
    enum Side: Equatable { case a, b, tie }

    static func columns(_ keys: Set<String>) -> [String: String] {
        var columns = ColumnNames.resolve([("prompt", ColumnNames.prompt), ("system", ColumnNames.system),
                                           ("response_a", ColumnNames.responseA), ("response_b", ColumnNames.responseB),
                                           ("overall", ColumnNames.overall), ("justification", ColumnNames.justification),
                                           ("id", ["id"]), ("annotator", ["annotator", "annotator_id", "worker_id"])], in: keys)
        for (aspect, column) in ColumnNames.aspects(in: keys) { columns["aspect:" + aspect] = column }
        return columns
    }

    static func convert(_ fields: RowFields, columns: [String: String], _ context: RowContext) throws -> [Record] {
        try ColumnNames.namingInputColumns(columns) { try convertRenamed(RowFields(renaming: fields, columns), columns: columns, context) }
    }

    private static func convertRenamed(_ row: RowFields, columns: [String: String], _ context: RowContext) throws -> [Record] {
        let deciding = context.options.aspect.map { "aspect:" + $0 } ?? "overall"
        guard let (side, strength) = try vote(row, deciding, columns) else {
            throw RowProblem(.missingField, field: deciding, "the deciding vote is empty or NaN")
        }
        var messages = try FieldParsing.prompt(row, key: "prompt")
        if let system = try row.optionalString("system"), !system.isEmpty { messages.insert(.system(system), at: 0) }
        let a = try FieldParsing.response(row, key: "response_a"), b = try FieldParsing.response(row, key: "response_b")
        // A tie record keeps A as "chosen"; other votes are told relative to that side.
        let chosenSide: Side = side == .b ? .b : .a
        func relative(_ other: Side) -> AspectVote { other == .tie ? .tie : (other == chosenSide ? .chosen : .rejected) }
        var aspects: [String: AspectVote] = [:]
        for key in columns.keys.sorted() where key.hasPrefix("aspect:") && key != deciding {
            guard let (aspectSide, _) = try vote(row, key, columns) else { continue }
            aspects[String(key.dropFirst("aspect:".count))] = relative(aspectSide)
        }
        if deciding != "overall", let (overall, _) = try vote(row, "overall", columns) { aspects["overall"] = relative(overall) }
        let justification = try row.optionalText("justification").flatMap { CellText.isMissing($0) ? nil : $0 }
        var comparison = Comparison(
            id: try row.optionalText("id").flatMap { $0.isEmpty ? nil : $0 } ?? context.id(), prompt: Prompt(messages: messages),
            chosen: side == .b ? b : a, rejected: side == .b ? a : b, dimension: context.options.defaultDimension,
            strength: strength.map { .level($0) }, annotator: try row.optionalText("annotator"), source: context.source)
        comparison.details = ComparisonDetails(aspects: aspects.isEmpty ? nil : aspects,
                                               preferenceFrom: context.options.aspect ?? "overall", justification: justification,
                                               tie: side == .tie ? .tie : nil)
        return [.comparison(comparison)]
    }

    /// One vote; nil when the cell is absent, null or NaN.
    static func vote(_ row: RowFields, _ key: String, _ columns: [String: String]) throws -> (Side, PreferenceLevel?)? {
        guard row.has(key) else { return nil }
        let value = try row.value(key)
        if case .bool = value { throw RowProblem(.wrongType, field: key, "field '\(key)' should be a number or a name, found boolean") }
        let text = try row.text(key).trimmingCharacters(in: .whitespaces)
        if CellText.isMissing(text) { return nil }
        if let number = Double(text) {
            guard number.isFinite else { return nil }
            if number == 0 { return (.tie, nil) }
            let magnitude = abs(number)
            let level: PreferenceLevel = magnitude >= 3 ? .significantlyBetter : (magnitude >= 2 ? .better : .slightlyBetter)
            return (number < 0 ? .a : .b, level)
        }
        let name = text.lowercased()
        let aNames = ["a", "model_a", "answer_a", "response_a", "1st", "first"] + [columns["response_a"]].compactMap { $0 }
        let bNames = ["b", "model_b", "answer_b", "response_b", "2nd", "second"] + [columns["response_b"]].compactMap { $0 }
        if aNames.contains(name) { return (.a, nil) }
        if bNames.contains(name) { return (.b, nil) }
        if ["tie", "equal", "same", "both", "neither"].contains(name) { return (.tie, nil) }
        throw RowProblem(.invalidValue, field: key, "field '\(key)' is '\(text)', expected a signed number, a, b or tie")
    }
}
