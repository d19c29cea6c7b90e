import Foundation
import PlumbStore

/// Writes comparisons as TRL preference rows (explicit prompt, conversational): `prompt` is the
/// message list, `chosen`/`rejected` one assistant message each, plus Plumbline's optional
/// columns (`id`, `prompt_id`, `dimension`, `strength` or `margin`, `annotator`, `chosen_safe`,
/// `rejected_safe`, `tags`). `TRLImporter` reads every column back, so export then import gives the
/// same comparisons (apart from their source file and line).
public enum TRLExport {
    public static func row(_ comparison: Comparison) -> JSONValue {
        func messages(_ list: [Message]) -> JSONValue {
            .array(list.map { .object(["role": .string($0.role.rawValue), "content": .string($0.content)]) })
        }
        var row: [String: JSONValue] = [
            "id": .string(comparison.id),
            "prompt_id": .string(comparison.prompt.id),
            "prompt": messages(comparison.prompt.messages),
            "chosen": messages([.assistant(comparison.chosen)]),
            "rejected": messages([.assistant(comparison.rejected)]),
            "dimension": .string(comparison.dimension.rawValue),
        ]
        switch comparison.strength {
        case .level(let level): row["strength"] = .string(level.rawValue)
        case .margin(let margin): row["margin"] = .number(margin)
        case nil: break
        }
        if let annotator = comparison.annotator { row["annotator"] = .string(annotator) }
        if let safe = comparison.chosenSafe { row["chosen_safe"] = .bool(safe) }
        if let safe = comparison.rejectedSafe { row["rejected_safe"] = .bool(safe) }
        if !comparison.prompt.tags.isEmpty { row["tags"] = .array(comparison.prompt.tags.map(JSONValue.string)) }
        return .object(row)
    }

    /// JSON Lines text, keys sorted (same comparisons, same bytes).
    public static func jsonLines(_ comparisons: [Comparison]) throws -> Data {
        let encoder = lineEncoder()
        var data = Data()
        for comparison in comparisons { data.append(try line(comparison, encoder)) }
        return data
    }

    static func lineEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// One comparison's row and its newline.
    static func line(_ comparison: Comparison, _ encoder: JSONEncoder) throws -> Data {
        var data = try encoder.encode(row(comparison))
        data.append(0x0a)
        return data
    }

    /// Writes the comparisons an import accepts (derived ones included) to a TRL JSON Lines file as
    /// they pass, and hands every record on to `next`. The file appears at `path` on `finish()`.
    public final class Sink: ImportSink {
        private let next: ImportSink
        private let path: URL
        private let partial: URL
        private let file: PosixFile
        private let encoder = TRLExport.lineEncoder()
        public private(set) var comparisons = 0

        public init(path: String, next: ImportSink) throws {
            self.next = next
            self.path = URL(fileURLWithPath: path)
            partial = URL(fileURLWithPath: path + ".partial")
            file = try PosixFile(creating: partial)
        }

        public func accept(_ record: ImportedRecord) throws {
            if case .comparison(let comparison) = record.record {
                try file.write(try TRLExport.line(comparison, encoder))
                comparisons += 1
            }
            try next.accept(record)
        }

        public func quarantine(_ entry: QuarantineEntry) throws { try next.quarantine(entry) }

        public func finish() throws {
            try file.sync()
            file.close()
            try AtomicFile.rename(partial, to: path)
        }
    }
}
