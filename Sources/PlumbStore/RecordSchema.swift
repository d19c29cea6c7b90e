// The record schema convention: every record is one JSON object per line with a top-level
// `"schema": "<kind>/<version>"` field, e.g. `"schema": "comparison/1"`. This file finds that field
// with one pass over the bytes (no JSON parse), skipping nested values and strings.
import Foundation

public enum RecordSchema {
    public enum Lookup: Equatable {
        case found(String)
        case missing
        case invalid(String)
    }

    /// Finds the top-level "schema" string of a JSON object line.
    public static func find(in line: UnsafeRawBufferPointer) -> Lookup {
        let b = line.bindMemory(to: UInt8.self)
        let n = b.count
        var i = skipSpace(b, 0)
        guard i < n, b[i] == UInt8(ascii: "{") else { return .invalid("not a JSON object (does not start with '{')") }
        i += 1
        while true {
            i = skipSpace(b, i)
            guard i < n else { return .invalid("JSON object is not closed") }
            if b[i] == UInt8(ascii: "}") { return .missing }
            guard b[i] == UInt8(ascii: "\"") else { return .invalid("expected a key at byte \(i)") }
            let keyStart = i + 1
            i = endOfString(b, i)
            guard i <= n else { return .invalid("unterminated string") }
            let isSchemaKey = i - 1 - keyStart == 6 && matches(b, keyStart, "schema")
            i = skipSpace(b, i)
            guard i < n, b[i] == UInt8(ascii: ":") else { return .invalid("expected ':' at byte \(i)") }
            i = skipSpace(b, i + 1)
            if isSchemaKey { return schemaValue(b, i) }
            i = skipValue(b, i)
            i = skipSpace(b, i)
            guard i < n else { return .invalid("JSON object is not closed") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { return .missing }
            return .invalid("expected ',' or '}' at byte \(i)")
        }
    }

    public static func find(in data: Data) -> Lookup { data.withUnsafeBytes { find(in: $0) } }

    /// True for `<kind>/<version>`: a non-empty kind of [a-z0-9_.-] and a decimal version.
    public static func isValid(_ schema: String) -> Bool {
        let parts = schema.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        let kindOK = parts[0].utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 46 || $0 == 45 }
        return kindOK && parts[1].utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    private static func schemaValue(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Lookup {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return .invalid("\"schema\" is not a string") }
        let end = endOfString(b, i)
        guard end <= b.count else { return .invalid("unterminated string") }
        var value = String(decoding: UnsafeBufferPointer(rebasing: b[(i + 1)..<(end - 1)]), as: UTF8.self)
        if value.contains("\\") {   // escaped, e.g. "comparison\/1" from JSONSerialization: unescape
            let literal = Data(UnsafeBufferPointer(rebasing: b[i..<end]))
            guard let decoded = try? JSONDecoder().decode(String.self, from: literal) else { return .invalid("bad string escape in \"schema\"") }
            value = decoded
        }
        return isValid(value) ? .found(value) : .invalid("\"schema\": \"\(value)\" is not <kind>/<version>")
    }

    @inline(__always) private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var i = from
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D || b[i] == 0x0A { i += 1 }
        return i
    }

    /// `i` is at an opening quote; returns the index just past the closing quote (count + 1 if none).
    @inline(__always) private static func endOfString(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var i = from + 1
        while i < b.count {
            if b[i] == UInt8(ascii: "\\") { i += 2; continue }
            if b[i] == UInt8(ascii: "\"") { return i + 1 }
            i += 1
        }
        return b.count + 1
    }

    /// Skips one JSON value starting at `i`; returns the index of the ',' or '}' that follows it.
    private static func skipValue(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var i = from
        var depth = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""): i = endOfString(b, i); continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return i }
                depth -= 1
            case UInt8(ascii: ","): if depth == 0 { return i }
            default: break
            }
            i += 1
        }
        return i
    }

    private static func matches(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ word: StaticString) -> Bool {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for k in 0..<w.count where b[at + k] != w[k] { return false }
        return true
    }
}
