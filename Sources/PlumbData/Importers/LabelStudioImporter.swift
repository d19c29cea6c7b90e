import Foundation
import PlumbStore

/// Label Studio JSON export: a list of tasks, each with `data` and `annotations[].result[]`.
/// - `pairwise` results (`value.selected` = left/right) give a comparison; left and right are the
///   two objects the Pairwise tag's `toName` names, resolved to task data through the config.
///   Without a config, left/right bind to the two non-prompt text fields in name order.
/// - `ranker` results give a ranking: a list of item ids in order (ranks 1..k), or buckets
///   (items of the config's first bucket rank 1, the next bucket 2, ...; unplaced items are left out).
/// - `textarea` results on a task with a prompt and one model response give an edit.
/// The prompt is the text field named `prompt`, `question`, `instruction`, `input` or `query`
/// (tagged with the task data's `tags`). The config is `--label-config`, else `<stem>-config.xml`
/// or `config.xml` beside the export.
/// Cancelled annotations are quarantined; every annotation of a task gives its own records.
struct LabelStudioImporter {
    var config: LabelingConfig?
    /// Task data from a separate tasks file, by task index, for exports whose rows carry only annotations.
    var taskData: [[String: JSONValue]] = []

    static let promptKeys = ["prompt", "question", "instruction", "input", "query"]

    func convert(_ fields: RowFields, rowIndex: Int, _ context: RowContext) throws -> ([Record], [RowProblem]) {
        let data: RowFields
        if fields.has("data") {
            data = try fields.objectField("data")
        } else if rowIndex < taskData.count {
            data = RowFields(object: taskData[rowIndex])
        } else {
            throw RowProblem(.missingField, field: "data", "the task has no 'data' and no tasks file supplies it (pass --texts tasks.json)")
        }
        let annotations = try fields.array("annotations")
        guard !annotations.isEmpty else { throw RowProblem(.noAnnotation, field: "annotations", "the task has no annotations") }
        let taskID = try fields.optionalText("id")
        var records: [Record] = []
        var problems: [RowProblem] = []
        for (annotationIndex, item) in annotations.enumerated() {
            let annotation = try RowFields(item)
            if try annotation.optionalBool("was_cancelled") == true {
                problems.append(RowProblem(.cancelledAnnotation, field: "annotations[\(annotationIndex)]", "the annotation was cancelled"))
                continue
            }
            let annotator = try Self.annotator(annotation)
            let results = try annotation.array("result")
            var produced = 0
            for (resultIndex, resultValue) in results.enumerated() {
                let result = try RowFields(resultValue)
                let id = "ls:\(taskID ?? context.id()):\(try annotation.optionalText("id") ?? String(annotationIndex)):\(resultIndex)"
                do {
                    if let record = try convertResult(result, data: data, id: id, annotator: annotator, context) {
                        records.append(record)
                        produced += 1
                    }
                } catch var problem as RowProblem {
                    problem.field = "annotations[\(annotationIndex)].result[\(resultIndex)]" + (problem.field.map { ".\($0)" } ?? "")
                    problems.append(problem)
                    produced += 1
                }
            }
            if produced == 0 {
                problems.append(RowProblem(.noAnnotation, field: "annotations[\(annotationIndex)]", "no pairwise, ranker or textarea result"))
            }
        }
        return (records, problems)
    }

    private func convertResult(_ result: RowFields, data: RowFields, id: String, annotator: String?, _ context: RowContext) throws -> Record? {
        let value = try result.objectField("value")
        let control = try result.optionalString("from_name") ?? ""
        switch try result.string("type") {
        case "pairwise":
            let (left, right) = try pairwiseTexts(control: control, data: data)
            let selected = try value.string("selected")
            guard selected == "left" || selected == "right" else {
                throw RowProblem(.invalidValue, field: "value.selected", "'selected' is '\(selected)', expected left or right")
            }
            let (chosen, rejected) = selected == "left" ? (left, right) : (right, left)
            return .comparison(Comparison(id: id, prompt: try prompt(data), chosen: chosen, rejected: rejected,
                                          dimension: context.options.defaultDimension, annotator: annotator, source: context.source))
        case "ranker":
            return .ranking(try ranking(value, control: control, data: data, id: id, annotator: annotator, context))
        case "textarea":
            let edited = try value.stringArray("text").joined(separator: "\n")
            let original = try editedText(control: control, data: data)
            return .edit(Edit(id: id, prompt: try prompt(data), original: original, edited: edited, annotator: annotator, source: context.source))
        default:
            return nil
        }
    }

    /// The prompt text field, with the task's `tags` (a list of strings) when it has them.
    private func prompt(_ data: RowFields) throws -> Prompt {
        guard let key = Self.promptKeys.first(where: { data.has($0) }) else { return Prompt(messages: []) }
        return Prompt(messages: [.user(try data.string(key))], tags: try FieldParsing.tags(data))
    }

    private func pairwiseTexts(control: String, data: RowFields) throws -> (String, String) {
        if let config, let binding = config.pairwise[control] ?? (config.pairwise.count == 1 ? config.pairwise.first?.value : nil) {
            return (try objectText(binding.left, data: data), try objectText(binding.right, data: data))
        }
        let candidates = data.object.keys.filter { !Self.promptKeys.contains($0) && data.object[$0]?.stringValue != nil }.sorted()
        guard candidates.count == 2 else {
            throw RowProblem(.missingField, field: "data", "without a labelling config, left/right need exactly two non-prompt text fields; found \(candidates)")
        }
        return (try data.string(candidates[0]), try data.string(candidates[1]))
    }

    private func objectText(_ object: String, data: RowFields) throws -> String {
        guard let key = config?.objects[object] else {
            throw RowProblem(.missingField, field: object, "the labelling config binds no data field to object '\(object)'")
        }
        return try data.string(key)
    }

    private func editedText(control: String, data: RowFields) throws -> String {
        if let target = config?.textAreas[control], let key = config?.objects[target], !Self.promptKeys.contains(key) {
            return try data.string(key)
        }
        let candidates = data.object.keys.filter { !Self.promptKeys.contains($0) && data.object[$0]?.stringValue != nil }.sorted()
        guard candidates.count == 1 else {
            throw RowProblem(.missingField, field: "data", "an edit needs one model response besides the prompt; found \(candidates)")
        }
        return try data.string(candidates[0])
    }

    private func ranking(_ value: RowFields, control: String, data: RowFields, id: String, annotator: String?,
                         _ context: RowContext) throws -> Ranking {
        let ranker = config?.rankers[control]
        let listKey = ranker.flatMap { config?.objects[$0.list] }
            ?? data.object.keys.sorted().first { data.object[$0]?.arrayValue != nil }
        guard let listKey else { throw RowProblem(.missingField, field: "data", "no list of items to rank in the task data") }
        var items: [String: String] = [:]
        for item in try data.array(listKey) {
            let fields = try RowFields(item)
            let parts = try ["title", "body", "text", "html"].compactMap { try fields.optionalString($0) }.filter { !$0.isEmpty }
            items[try fields.text("id")] = parts.isEmpty ? try fields.text("id") : parts.joined(separator: "\n")
        }
        var order: [(id: String, rank: Int)] = []
        switch try value.value("ranker") {
        case .array:
            order = try value.stringArray("ranker").enumerated().map { ($1, $0 + 1) }
        case .object(let buckets):
            guard let names = ranker?.buckets, !names.isEmpty else {
                throw RowProblem(.missingField, field: "value.ranker", "bucketed rankings need the labelling config for the bucket order (pass --label-config)")
            }
            for (rank, bucket) in names.enumerated() {
                for itemID in buckets[bucket]?.arrayValue ?? [] {
                    guard let itemID = itemID.stringValue else { throw RowProblem(.wrongType, field: "value.ranker.\(bucket)", "bucket items should be ids") }
                    order.append((itemID, rank + 1))
                }
            }
        case let other:
            throw RowProblem(.wrongType, field: "value.ranker", "'ranker' should be a list or buckets, found \(other.typeName)")
        }
        let responses = try order.map { entry -> String in
            guard let text = items[entry.id] else { throw RowProblem(.invalidValue, field: "value.ranker", "item '\(entry.id)' is not in the task's list") }
            return text
        }
        return Ranking(id: id, prompt: try prompt(data), responses: responses, ranks: order.map(\.rank),
                       dimension: context.options.defaultDimension, annotator: annotator, source: context.source)
    }

    static func annotator(_ annotation: RowFields) throws -> String? {
        switch annotation.object["completed_by"] {
        case .number(let number)?: return "label-studio:\(Int(number))"
        case .string(let text)?: return text
        case .object(let user)?: return user["email"]?.stringValue ?? user["id"].flatMap { $0.numberValue.map { "label-studio:\(Int($0))" } }
        default: return nil
        }
    }
}
