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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for comparison in comparisons {
            data.append(try encoder.encode(row(comparison)))
            data.append(0x0a)
        }
        return data
    }
}
