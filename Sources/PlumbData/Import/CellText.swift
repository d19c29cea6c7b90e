import Foundation
import PlumbStore

/// Reading cells that exports write loosely: pandas' NaN as text or an empty CSV cell, lists of
/// turns JSON-encoded inside a CSV cell, Python dict reprs of label maps.
enum CellText {
    /// An empty cell or pandas' missing-value spellings.
    static func isMissing(_ text: String) -> Bool {
        ["", "nan", "none", "null", "na", "n/a"].contains(text.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// A cell's value with JSON text inside a string decoded: `"[\"a\", null]"` -> an array.
    /// Text that does not start like JSON stays text; text that does but fails to parse is a
    /// `invalid_json` problem naming the field.
    static func decoded(_ fields: RowFields, _ key: String) throws -> JSONValue {
        let value = try fields.value(key)
        guard case .string(let text) = value else { return value }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = trimmed.first, first == "[" || first == "{" else { return value }
        if let parsed = try? JSONValue.parse(Data(trimmed.utf8)) { return parsed }
        if first == "{", let parsed = try? JSONValue.parse(Data(pythonLiteralAsJSON(trimmed).utf8)) { return parsed }
        throw RowProblem(.invalidJSON, field: key, "field '\(key)' holds text that starts like JSON but does not parse: '\(trimmed.prefix(60))'")
    }

    /// A list of turns: a JSON array of strings and nulls (directly or JSON-encoded in the cell),
    /// or one plain string (a single turn).
    static func turns(_ fields: RowFields, _ key: String) throws -> [String?] {
        switch try decoded(fields, key) {
        case .string(let text): return [text]
        case .array(let items):
            return try items.enumerated().map { index, item in
                switch item {
                case .string(let text): return text
                case .null: return nil
                default: throw RowProblem(.wrongType, field: "\(key)[\(index)]", "turn \(index + 1) of '\(key)' should be a string or null, found \(item.typeName)")
                }
            }
        case let other: throw RowProblem(.wrongType, field: key, "field '\(key)' should be a list of turns or a string, found \(other.typeName)")
        }
    }

    /// A Python dict repr of simple keys and True/False/None (pandas writes dict cells this way)
    /// rewritten as JSON. Keys holding an apostrophe are not supported.
    static func pythonLiteralAsJSON(_ text: String) -> String {
        var out = ""
        var word = ""
        func flush() {
            switch word {
            case "True": out += "true"
            case "False": out += "false"
            case "None": out += "null"
            default: out += word
            }
            word = ""
        }
        var inString = false
        for character in text {
            if character == "'" { flush(); out.append("\""); inString.toggle(); continue }
            if inString { out.append(character); continue }
            if character.isLetter { word.append(character) } else { flush(); out.append(character) }
        }
        flush()
        return out
    }
}
