import Foundation
import PlumbStore

/// OpenAssistant message trees (oasst1, oasst2 and the early exports; `oasst-data`'s
/// `ExportMessageTree` / `ExportMessageNode`): a row is a tree `{message_tree_id, tree_state,
/// prompt: node}` or a root node itself; a node has `message_id`, `text`, `role` (`prompter` or
/// `assistant`), `lang`, `review_result`, `deleted`, `rank`, `labels` and `replies` (nodes).
///
/// Every prompter message whose assistant replies include two or more ranked ones gives a
/// ranking of those replies (OpenAssistant's `rank`, 0 best, in order; gaps left by left-out
/// siblings closed up), whose prompt is the whole conversation from the tree's root down to that
/// message. Labels (`quality`, `toxicity`, `humor`, ...; `{value, count}` or the flat table's
/// `{name: [..], value: [..]}`) go with each response. Left out by rule and counted in
/// `skipped` per message: `deleted`, `review_failed` (review_result false), `unreviewed` (no
/// review_result), with their subtrees; `unranked` assistant replies (their subtrees are still
/// read); `no_sibling` (the only ranked reply of its prompt); `other_language` (every message of
/// a tree whose root is not in `ImportOptions.language`). Two siblings with one rank quarantine
/// that ranking `repeated_rank`.
enum OpenAssistantImporter {
    /// One message, as read from a node.
    struct Node {
        var id: String
        var role: Role
        var text: String
        var lang: String?
        var deleted: Bool
        var review: Bool?
        var rank: Int?
        var labels: [String: Double]
        var replies: [JSONValue]

        init(_ value: JSONValue, field: String) throws {
            let fields = try RowFields(value)
            do {
                id = try fields.text("message_id")
                let roleName = try fields.string("role")
                guard let role = Role(sourceName: roleName), role != .system else {
                    throw RowProblem(.invalidValue, field: "role", "unknown role '\(roleName)', expected prompter or assistant")
                }
                self.role = role
                text = try fields.string("text")
                lang = try fields.optionalText("lang")
                deleted = try fields.optionalBool("deleted") ?? false
                review = try fields.optionalBool("review_result")
                rank = try fields.has("rank") ? fields.int("rank") : nil
                labels = try OpenAssistantImporter.labels(fields)
                replies = fields.has("replies") ? try fields.array("replies") : []
            } catch var problem as RowProblem {
                problem.field = problem.field.map { field.isEmpty ? $0 : "\(field).\($0)" }
                throw problem
            }
        }
    }

    static func convertTree(_ fields: RowFields, _ context: RowContext) throws -> Importer.RowOutput {
        let root = fields.has("prompt") ? try fields.value("prompt") : .object(fields.object)
        return try walk(root, rootField: fields.has("prompt") ? "prompt" : "", context) { _ in context.source }
    }

    /// Rankings from the tree under `root`; `source` names the row each ranking's prompt came from.
    static func walk(_ root: JSONValue, rootField: String, _ context: RowContext,
                     source: (String) -> SourceRef) throws -> Importer.RowOutput {
        let top = try Node(root, field: rootField)
        var output = Importer.RowOutput(records: [])
        if let language = context.options.language, top.lang != language {
            output.skipped["other_language"] = count(root)
            return output
        }
        guard top.role == .user else {
            throw RowProblem(.invalidValue, field: rootField.isEmpty ? "role" : "\(rootField).role", "the tree's first message is not a prompter message")
        }
        if let reason = leftOut(top) { return Importer.RowOutput(records: [], skipped: [reason: 1]) }
        // Depth first with an explicit stack: (node, its field path, the conversation before it).
        var stack: [(JSONValue, String, [Message])] = [(root, rootField, [])]
        while let (value, field, before) = stack.popLast() {
            let node = try Node(value, field: field)
            let conversation = before + [Message(role: node.role, content: node.text)]
            var ranked: [Node] = []
            for (index, reply) in node.replies.enumerated() {
                let replyField = (field.isEmpty ? "" : field + ".") + "replies[\(index)]"
                let child = try Node(reply, field: replyField)
                if let reason = leftOut(child) { output.skipped[reason, default: 0] += 1; continue }
                stack.append((reply, replyField, conversation))
                guard node.role == .user, child.role == .assistant else { continue }
                if child.rank == nil { output.skipped["unranked", default: 0] += 1 } else { ranked.append(child) }
            }
            if ranked.count == 1 { output.skipped["no_sibling", default: 0] += 1 }
            guard ranked.count >= 2 else { continue }
            let ranks = ranked.map { $0.rank! }
            if Set(ranks).count < ranks.count {
                let shown = ranked.map { "\($0.id)=\($0.rank!)" }.joined(separator: ", ")
                output.problems.append(RowProblem(.repeatedRank, field: field.isEmpty ? "replies" : field + ".replies",
                                                  "sibling replies of message \(node.id) repeat a rank: \(shown)"))
                continue
            }
            let order = Array(Set(ranks)).sorted()
            output.records.append(.ranking(Ranking(
                id: node.id, prompt: Prompt(messages: conversation), responses: ranked.map(\.text),
                ranks: ranks.map { order.firstIndex(of: $0)! + 1 }, dimension: context.options.defaultDimension,
                labels: ranked.map(\.labels), source: source(node.id))))
        }
        return output
    }

    /// Why a message and its subtree are left out, if they are.
    static func leftOut(_ node: Node) -> String? {
        if node.deleted { return "deleted" }
        switch node.review {
        case false?: return "review_failed"
        case nil: return "unreviewed"
        case true?: return nil
        }
    }

    /// Messages in a tree (for the language filter's count).
    static func count(_ root: JSONValue) -> Int {
        var total = 0
        var stack = [root]
        while let node = stack.popLast() {
            total += 1
            stack += node["replies"]?.arrayValue ?? []
        }
        return total
    }

    /// `labels`: `{name: {value, count}}` (tree export) or `{name: [..], value: [..]}` (flat table).
    static func labels(_ fields: RowFields) throws -> [String: Double] {
        guard fields.has("labels"), let object = try fields.value("labels").objectValue else { return [:] }
        if let names = object["name"]?.arrayValue, let values = object["value"]?.arrayValue {
            var out: [String: Double] = [:]
            for (name, value) in zip(names, values) { if let name = name.stringValue, let value = value.numberValue { out[name] = value } }
            return out
        }
        var out: [String: Double] = [:]
        for (name, label) in object {
            if let value = label["value"]?.numberValue ?? label.numberValue { out[name] = value }
        }
        return out
    }
}
