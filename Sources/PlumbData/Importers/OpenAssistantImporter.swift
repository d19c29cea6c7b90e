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
/// message (consecutive messages of one role merged into one turn, joined by a blank line).
/// Labels (`quality`, `toxicity`, `humor`, ...; `{value, count}` or the flat table's `{name: [..],
/// value: [..]}`) go with each response. Left out by rule and counted in
/// `skipped` per message: `deleted`, `review_failed` (review_result false), `unreviewed`
/// (review_result null; early exports without the field are read as reviewed), with their subtrees; `unranked` assistant replies (their subtrees are still
/// read); `no_sibling` (the only ranked reply of its prompt); `other_language` (every message of
/// a tree whose root is not in `ImportOptions.language`). Two siblings with one rank quarantine
/// that ranking `repeated_rank`.
enum OpenAssistantImporter {
    /// One message, as read from a node: its small fields decoded, its replies left as handles.
    struct Node<Handle> {
        var id: String
        var role: Role
        var text: String
        var lang: String?
        var deleted: Bool
        var review: Bool?
        var rank: Int?
        var labels: [String: Double]
        var replies: [Handle]

        init(_ row: RowFields, replies: [Handle], field: String) throws {
            // A CSV export of the flat table writes null values as empty cells.
            let fields = RowFields(object: row.object.mapValues { $0 == .string("") ? .null : $0 })
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
                // Early exports have no `review_result` at all (nothing reviewed was recorded): read
                // as reviewed. A `review_result` of null is a message still waiting for review.
                review = fields.object["review_result"] == nil ? true : try fields.optionalBool("review_result")
                rank = try fields.has("rank") ? fields.int("rank") : nil
                labels = try OpenAssistantImporter.labels(fields)
                self.replies = replies
            } catch var problem as RowProblem {
                problem.field = problem.field.map { field.isEmpty ? $0 : "\(field).\($0)" }
                throw problem
            }
        }
    }

    /// Where a tree's nodes come from: decoded values (the flat table rebuilt), or a row's bytes.
    typealias NodeReader<Handle> = (Handle, String) throws -> Node<Handle>

    static func decodedNode(_ value: JSONValue, field: String) throws -> Node<JSONValue> {
        let fields = try RowFields(value)
        return try Node(fields, replies: fields.has("replies") ? try fields.array("replies") : [], field: field)
    }

    /// A tree row read over its bytes: each node's fields other than `replies` decoded, its replies
    /// kept as byte ranges, each ranking handed to `emit` as it is made, so memory holds the row's
    /// bytes and the nodes on the walk's stack, not the tree's rankings.
    static func convertTree(_ json: ShallowJSON, _ context: RowContext, emit: (Record) throws -> Void) throws -> Importer.RowOutput {
        func node(_ range: Range<Int>, field: String) throws -> Node<Range<Int>> {
            var object: [String: JSONValue] = [:]
            var replies: [Range<Int>] = []
            for (key, value) in try json.members(range) {
                if key == "replies" {
                    if json.bytes[value.lowerBound] == UInt8(ascii: "[") { replies = try json.elements(value) }
                } else {
                    object[key] = try json.decode(value)
                }
            }
            return try Node(RowFields(object: object), replies: replies, field: field)
        }
        do {
            let row = try json.root
            let members = try json.members(row)
            let prompt = members.first { $0.key == "prompt" }?.value
            return try walk(prompt ?? row, rootField: prompt == nil ? "" : "prompt", node, context, emit: emit) { _ in context.source }
        } catch let problem as ShallowJSON.Problem {
            throw RowProblem(.invalidJSON, "not valid JSON (\(problem))")
        }
    }

    /// Rankings from the tree under `root`; `source` names the row each ranking's prompt came from.
    static func walk<Handle>(_ root: Handle, rootField: String, _ read: NodeReader<Handle>, _ context: RowContext,
                             emit: (Record) throws -> Void, source: (String) -> SourceRef) throws -> Importer.RowOutput {
        let top = try read(root, rootField)
        var output = Importer.RowOutput(records: [])
        if let language = context.options.language, top.lang != language {
            output.skipped["other_language"] = try count(root, read)
            return output
        }
        guard top.role == .user else {
            throw RowProblem(.invalidValue, field: rootField.isEmpty ? "role" : "\(rootField).role", "the tree's first message is not a prompter message")
        }
        if let reason = leftOut(top) { return Importer.RowOutput(records: [], skipped: [reason: 1]) }
        // Depth first with an explicit stack: (node, its field path, the conversation before it).
        var stack: [(Node<Handle>, String, [Message])] = [(top, rootField, [])]
        while let (node, field, before) = stack.popLast() {
            var conversation = before
            if let last = conversation.last, last.role == node.role {
                // Real trees hold an assistant reply to an assistant message: one turn, as HH-RLHF's are merged.
                conversation[conversation.count - 1].content = last.content + "\n\n" + node.text
            } else {
                conversation.append(Message(role: node.role, content: node.text))
            }
            var ranked: [Node<Handle>] = []
            for (index, reply) in node.replies.enumerated() {
                let replyField = (field.isEmpty ? "" : field + ".") + "replies[\(index)]"
                let child = try read(reply, replyField)
                if let reason = leftOut(child) { output.skipped[reason, default: 0] += 1; continue }
                stack.append((child, replyField, conversation))
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
            try emit(.ranking(Ranking(
                id: node.id, prompt: Prompt(messages: conversation), responses: ranked.map(\.text),
                ranks: ranks.map { order.firstIndex(of: $0)! + 1 }, dimension: context.options.defaultDimension,
                labels: ranked.map(\.labels), source: source(node.id))))
        }
        return output
    }

    /// Why a message and its subtree are left out, if they are.
    static func leftOut<Handle>(_ node: Node<Handle>) -> String? {
        if node.deleted { return "deleted" }
        switch node.review {
        case false?: return "review_failed"
        case nil: return "unreviewed"
        case true?: return nil
        }
    }

    /// Messages in a tree (for the language filter's count).
    static func count<Handle>(_ root: Handle, _ read: NodeReader<Handle>) throws -> Int {
        var total = 0
        var stack = [root]
        while let handle = stack.popLast() {
            total += 1
            stack += try read(handle, "").replies
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
