import Foundation
import PlumbStore

/// OpenAssistant messages one a row: the flat table (`OpenAssistant/oasst1` as JSON Lines, CSV or
/// parquet-exported rows: `message_id`, `parent_id`, `message_tree_id`, `text`, `role`, `lang`,
/// `review_result`, `deleted`, `rank`, `labels`) and the message exports. A tree's messages must
/// be adjacent, as the exports write them: rows are grouped by `message_tree_id`, or, without it,
/// from one root (no `parent_id`) to the next. Each group is rebuilt into a tree and read as
/// `OpenAssistantImporter` reads one; a ranking's source is its prompt message's row.
///
/// Quarantined, naming the row: a `parent_id` that names no message of the tree
/// (`unknown_parent`), and each message of a loop of parent links (`tree_cycle`). Messages below
/// those cannot be placed and are counted in `skipped` (`detached`); the rest of the tree is read.
enum OpenAssistantMessagesImporter {
    /// The group a row belongs to: its tree id; without one, a root starts a group (its id) and
    /// any other row continues the current one (nil).
    static func groupKey(_ value: JSONValue) -> String? {
        if let tree = value["message_tree_id"]?.stringValue, !tree.isEmpty { return tree }
        let parent = value["parent_id"]
        if parent == nil || parent == .null || parent?.stringValue.map(CellText.isMissing) == true {
            return value["message_id"]?.stringValue ?? ""
        }
        return nil
    }

    static func convertGroup(_ rows: [InputRow], options: ImportOptions) -> [Importer.Converted] {
        var out: [Importer.Converted] = []
        var byID: [String: Int] = [:]
        var parents: [Int: String] = [:]
        for (index, row) in rows.enumerated() {
            do {
                let fields = try RowFields(row.value!)
                let id = try fields.text("message_id")
                guard byID[id] == nil else { throw RowProblem(.invalidValue, field: "message_id", "message_id '\(id)' appears twice in its tree") }
                byID[id] = index
                if let parent = try fields.optionalText("parent_id"), !CellText.isMissing(parent) { parents[index] = parent }
            } catch {
                out.append(problem(row, error))
            }
        }
        var children: [Int: [Int]] = [:]
        var roots: [Int] = []
        var broken: Set<Int> = []
        for index in byID.values.sorted() {
            guard let parentID = parents[index] else { roots.append(index); continue }
            guard let parent = byID[parentID] else {
                broken.insert(index)
                out.append(problem(rows[index], RowProblem(.unknownParent, field: "parent_id",
                                                           "parent_id '\(parentID)' names no message of this tree")))
                continue
            }
            children[parent, default: []].append(index)
        }
        var placed = Set<Int>()
        for root in roots { mark(root, children, &placed) }
        for index in byID.values.sorted() where !placed.contains(index) && !broken.contains(index) && onCycle(index, rows, byID, parents) {
            out.append(problem(rows[index], RowProblem(.treeCycle, field: "parent_id", "the parent links from this message loop back to it")))
            broken.insert(index)
        }
        let detached = byID.count - placed.count - broken.count
        for root in roots {
            let row = rows[root]
            let context = RowContext(source: row.source, options: options)
            do {
                var records: [Record] = []
                let output = try OpenAssistantImporter.walk(nested(root, rows, children), rootField: "", OpenAssistantImporter.decodedNode,
                                                            context, emit: { records.append($0) }) { id in
                    byID[id].map { rows[$0].source } ?? row.source
                }
                out.append(Importer.Converted(row: row, records: records, problems: output.problems, skipped: output.skipped))
            } catch {
                out.append(problem(row, error))
            }
        }
        if detached > 0, let first = rows.first { out.append(Importer.Converted(row: first, records: [], problems: [], skipped: ["detached": detached])) }
        return out
    }

    /// The row's object with `replies` rebuilt from the child rows.
    private static func nested(_ index: Int, _ rows: [InputRow], _ children: [Int: [Int]]) -> JSONValue {
        var object = rows[index].value?.objectValue ?? [:]
        object["replies"] = .array((children[index] ?? []).map { nested($0, rows, children) })
        return .object(object)
    }

    private static func mark(_ root: Int, _ children: [Int: [Int]], _ placed: inout Set<Int>) {
        var stack = [root]
        while let index = stack.popLast() {
            if placed.insert(index).inserted { stack += children[index] ?? [] }
        }
    }

    /// Whether following parent links from `index` comes back to it.
    private static func onCycle(_ index: Int, _ rows: [InputRow], _ byID: [String: Int], _ parents: [Int: String]) -> Bool {
        var seen = Set<Int>()
        var current = index
        while let parentID = parents[current], let parent = byID[parentID] {
            if parent == index { return true }
            guard seen.insert(parent).inserted else { return false }
            current = parent
        }
        return false
    }

    private static func problem(_ row: InputRow, _ error: Error) -> Importer.Converted {
        let problem = error as? RowProblem ?? RowProblem(.invalidValue, "\(error)")
        return Importer.Converted(row: row, records: [], problems: [problem])
    }
}
