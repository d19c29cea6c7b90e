import Foundation
import PlumbStore

/// Typed access to one row's fields. Every failure is a `RowProblem` naming the field, so a bad row
/// is quarantined with its file, line, field and reason.
struct RowFields {
    let object: [String: JSONValue]

    init(_ value: JSONValue) throws {
        guard case .object(let object) = value else {
            throw RowProblem(.wrongType, "expected a JSON object, found \(value.typeName)")
        }
        self.object = object
    }

    init(object: [String: JSONValue]) { self.object = object }

    /// The row seen through a column mapping: canonical field -> the value of its column.
    init(renaming fields: RowFields, _ columns: [String: String]) {
        var renamed: [String: JSONValue] = [:]
        for (field, column) in columns { renamed[field] = fields.object[column] }
        object = renamed
    }

    /// Present and not a missing value: null, or NaN (pandas' missing value, written by Python's
    /// `json.dumps` as a bare `NaN`), count as absent.
    func has(_ key: String) -> Bool {
        if let value = object[key], !RowFields.isMissing(value) { return true }
        return false
    }

    func value(_ key: String) throws -> JSONValue {
        guard let value = object[key], !RowFields.isMissing(value) else {
            throw RowProblem(.missingField, field: key, "missing field '\(key)'\(object[key] == nil || object[key] == .null ? "" : " (NaN)")")
        }
        return value
    }

    static func isMissing(_ value: JSONValue) -> Bool {
        if case .number(let number) = value { return number.isNaN }
        return value == .null
    }

    func string(_ key: String) throws -> String {
        let value = try value(key)
        guard case .string(let text) = value else {
            throw RowProblem(.wrongType, field: key, "field '\(key)' should be a string, found \(value.typeName)")
        }
        return text
    }

    func optionalString(_ key: String) throws -> String? {
        has(key) ? try string(key) : nil
    }

    /// A string, or a number written as text (CSV cells, ids that are numbers).
    func text(_ key: String) throws -> String {
        let value = try value(key)
        switch value {
        case .string(let text): return text
        case .number(let number): return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        default: throw RowProblem(.wrongType, field: key, "field '\(key)' should be a string or number, found \(value.typeName)")
        }
    }

    func optionalText(_ key: String) throws -> String? { has(key) ? try text(key) : nil }

    func number(_ key: String) throws -> Double {
        let value = try value(key)
        switch value {
        case .number(let number): return number
        case .string(let text):
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)) else {
                throw RowProblem(.wrongType, field: key, "field '\(key)' should be a number, found the text '\(text.prefix(40))'")
            }
            return number
        default: throw RowProblem(.wrongType, field: key, "field '\(key)' should be a number, found \(value.typeName)")
        }
    }

    func optionalNumber(_ key: String) throws -> Double? { has(key) ? try number(key) : nil }

    func int(_ key: String) throws -> Int {
        let number = try number(key)
        guard number == number.rounded(), abs(number) < 1e15 else {
            throw RowProblem(.wrongType, field: key, "field '\(key)' should be an integer, found \(number)")
        }
        return Int(number)
    }

    func bool(_ key: String) throws -> Bool {
        let value = try value(key)
        switch value {
        case .bool(let flag): return flag
        case .string(let text) where ["true", "false", "1", "0"].contains(text.lowercased()):
            return text.lowercased() == "true" || text == "1"
        default: throw RowProblem(.wrongType, field: key, "field '\(key)' should be a boolean, found \(value.typeName)")
        }
    }

    func optionalBool(_ key: String) throws -> Bool? { has(key) ? try bool(key) : nil }

    func array(_ key: String) throws -> [JSONValue] {
        let value = try value(key)
        guard case .array(let items) = value else {
            throw RowProblem(.wrongType, field: key, "field '\(key)' should be an array, found \(value.typeName)")
        }
        return items
    }

    func objectField(_ key: String) throws -> RowFields {
        let value = try value(key)
        guard case .object(let object) = value else {
            throw RowProblem(.wrongType, field: key, "field '\(key)' should be an object, found \(value.typeName)")
        }
        return RowFields(object: object)
    }

    func stringArray(_ key: String) throws -> [String] {
        try array(key).enumerated().map { index, item in
            guard case .string(let text) = item else {
                throw RowProblem(.wrongType, field: "\(key)[\(index)]", "field '\(key)[\(index)]' should be a string, found \(item.typeName)")
            }
            return text
        }
    }

    /// A message list: `[{role, content}]` (OpenAI/TRL) or `[{from, value}]` (ShareGPT); content may
    /// be a string or a list of `{type: text, text|value}` parts (LLaMA-Factory v1, multimodal chat).
    func messages(_ key: String) throws -> [Message] {
        try array(key).enumerated().map { index, item in
            try RowFields.message(item, field: "\(key)[\(index)]")
        }
    }

    static func message(_ item: JSONValue, field: String) throws -> Message {
        guard case .object(let object) = item else {
            throw RowProblem(.wrongType, field: field, "field '\(field)' should be a message object, found \(item.typeName)")
        }
        let fields = RowFields(object: object)
        let roleKey = fields.has("role") ? "role" : "from"
        let contentKey = fields.has("content") ? "content" : "value"
        let roleName = try fields.string(roleKey)
        guard let role = Role(sourceName: roleName) else {
            throw RowProblem(.invalidValue, field: "\(field).\(roleKey)", "unknown role '\(roleName)' in '\(field)'")
        }
        let content = try fields.value(contentKey)
        switch content {
        case .string(let text): return Message(role: role, content: text)
        case .array(let parts):
            let texts = try parts.enumerated().map { partIndex, part -> String in
                let partFields = try RowFields(part)
                return try partFields.string(partFields.has("text") ? "text" : "value")
            }
            return Message(role: role, content: texts.joined())
        default:
            throw RowProblem(.wrongType, field: "\(field).\(contentKey)", "field '\(field).\(contentKey)' should be a string or a list of text parts, found \(content.typeName)")
        }
    }
}

extension Role {
    /// Role names as the ecosystem writes them (ShareGPT `human`/`gpt`, OpenAI `user`/`assistant`).
    init?(sourceName: String) {
        switch sourceName.lowercased() {
        case "system": self = .system
        case "user", "human", "prompter": self = .user
        case "assistant", "gpt", "bot", "model", "chatgpt": self = .assistant
        default: return nil
        }
    }
}
