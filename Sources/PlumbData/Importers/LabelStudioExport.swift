import Foundation
import PlumbStore

/// A completed Label Studio export read task by task, for callers that need each task's own data
/// beside its annotations (the rejection-sampling fold-back matches `data.prompt_id`). The results are
/// parsed by the importer's own converter (`LabelStudioImporter`), so rankings and edits mean here
/// what they mean to `plumb import`; nothing is validated, de-duplicated or derived.
public struct LabelStudioCompletedTask: Sendable {
    /// Position of the task in the export (0-based).
    public var index: Int
    /// The task's `data` object.
    public var data: [String: JSONValue]
    /// One record per usable result, in annotation order (rankings and edits; pairwise results give comparisons).
    public var records: [Record]
    /// Problems with the task's annotations (cancelled, no result, a result that does not parse), each
    /// with the field it is about (`annotations[0].result[1].value.ranker`).
    public var problems: [RowProblem]
}

public enum LabelStudioExport {
    /// Every task of the export at `path`. A row that is not a JSON object with a `data` object is an
    /// error naming the file, the task and the field.
    public static func read(_ path: String, config: LabelingConfig?, limits: InputLimits = InputLimits()) throws -> [LabelStudioCompletedTask] {
        let file = try InputFile(path, limits: limits)
        let importer = LabelStudioImporter(config: config)
        var tasks: [LabelStudioCompletedTask] = []
        while let row = try file.next() {
            let index = file.rowsRead - 1
            if let problem = row.problem {
                throw InputError(file: path, line: row.source.line, field: "[\(index)]" + (problem.field.map { ".\($0)" } ?? ""), reason: problem.detail)
            }
            guard let data = row.value?["data"]?.objectValue else {
                throw InputError(file: path, line: row.source.line, field: "[\(index)].data", reason: "task \(index) has no 'data' object")
            }
            var task = LabelStudioCompletedTask(index: index, data: data, records: [], problems: [])
            do {
                (task.records, task.problems) = try importer.convert(try RowFields(row.value!), rowIndex: index,
                                                                     RowContext(source: row.source, options: ImportOptions()))
            } catch let problem as RowProblem {
                task.problems = [problem]
            }
            tasks.append(task)
        }
        return tasks
    }
}
