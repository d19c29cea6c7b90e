import Foundation

import PlumbStore

/// Accessors over PlumbStore's `JSONValue`, which importers use for input rows.
extension JSONValue {
    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let fields) = self { return fields }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The JSON type's name, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Parses one JSON document. Python's `json.dumps` writes missing floats as bare `NaN` (and
    /// `Infinity`), which JSON forbids; a document that fails only on those is read as JSON5, which
    /// allows them, and they come back as numbers (`RowFields` treats NaN as absent).
    public static func parse(_ data: Data) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            guard data.range(of: Data("NaN".utf8)) != nil || data.range(of: Data("Infinity".utf8)) != nil else { throw error }
            let lenient = JSONDecoder()
            lenient.allowsJSON5 = true
            guard let value = try? lenient.decode(JSONValue.self, from: data) else { throw error }
            return value
        }
    }
}
