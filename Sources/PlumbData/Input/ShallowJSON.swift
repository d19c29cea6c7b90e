import Foundation
import PlumbStore

/// One JSON value's bytes read without decoding all of it: an object's members and an array's
/// elements as byte ranges, each decoded on demand. A row too large to decode whole (an
/// OpenAssistant tree of 100,000 messages is one 64 MB line) is walked this way, holding its bytes
/// and one node's small fields at a time instead of a decoded tree several times its size.
/// Ranges index `bytes`; they never include surrounding whitespace.
struct ShallowJSON {
    let bytes: [UInt8]

    struct Problem: Error, CustomStringConvertible {
        var offset: Int
        var detail: String
        var description: String { "\(detail) at byte \(offset)" }
    }

    /// The whole text's value.
    var root: Range<Int> { get throws { try value(at: 0) } }

    /// The value starting at or after `start` (whitespace skipped).
    func value(at start: Int) throws -> Range<Int> {
        let begin = skipWhitespace(start)
        guard begin < bytes.count else { throw Problem(offset: begin, detail: "expected a value, found the end") }
        return begin..<(try end(of: begin))
    }

    /// An object's members in order, each value's range.
    func members(_ range: Range<Int>) throws -> [(key: String, value: Range<Int>)] {
        guard bytes[range.lowerBound] == UInt8(ascii: "{") else { throw Problem(offset: range.lowerBound, detail: "expected an object") }
        var out: [(String, Range<Int>)] = []
        var index = skipWhitespace(range.lowerBound + 1)
        if bytes[index] == UInt8(ascii: "}") { return [] }
        while true {
            let keyRange = try value(at: index)
            guard bytes[keyRange.lowerBound] == UInt8(ascii: "\"") else { throw Problem(offset: keyRange.lowerBound, detail: "expected a member name") }
            let key = try string(keyRange)
            index = skipWhitespace(keyRange.upperBound)
            guard index < range.upperBound, bytes[index] == UInt8(ascii: ":") else { throw Problem(offset: index, detail: "expected ':'") }
            let valueRange = try value(at: index + 1)
            out.append((key, valueRange))
            index = skipWhitespace(valueRange.upperBound)
            guard index < range.upperBound else { throw Problem(offset: index, detail: "the object does not close") }
            if bytes[index] == UInt8(ascii: "}") { return out }
            guard bytes[index] == UInt8(ascii: ",") else { throw Problem(offset: index, detail: "expected ',' or '}'") }
            index += 1
        }
    }

    /// An array's elements in order.
    func elements(_ range: Range<Int>) throws -> [Range<Int>] {
        guard bytes[range.lowerBound] == UInt8(ascii: "[") else { throw Problem(offset: range.lowerBound, detail: "expected an array") }
        var out: [Range<Int>] = []
        var index = skipWhitespace(range.lowerBound + 1)
        if bytes[index] == UInt8(ascii: "]") { return [] }
        while true {
            let element = try value(at: index)
            out.append(element)
            index = skipWhitespace(element.upperBound)
            guard index < range.upperBound else { throw Problem(offset: index, detail: "the array does not close") }
            if bytes[index] == UInt8(ascii: "]") { return out }
            guard bytes[index] == UInt8(ascii: ",") else { throw Problem(offset: index, detail: "expected ',' or ']'") }
            index += 1
        }
    }

    /// The value decoded (for small values: a node's scalar fields).
    func decode(_ range: Range<Int>) throws -> JSONValue {
        try bytes.withUnsafeBytes { raw in
            try JSONValue.parse(Data(bytes: raw.baseAddress! + range.lowerBound, count: range.count))
        }
    }

    /// The value decoded, with every object or array longer than `cap` bytes cut down: an object
    /// keeps its members (each cut the same way), an array its first element. Enough to tell a
    /// format from (member names, the first element's fields) in bounded memory.
    func bounded(_ range: Range<Int>, cap: Int) throws -> JSONValue {
        guard range.count > cap else { return try decode(range) }
        switch bytes[range.lowerBound] {
        case UInt8(ascii: "{"):
            var object: [String: JSONValue] = [:]
            for (key, value) in try members(range) { object[key] = try bounded(value, cap: cap) }
            return .object(object)
        case UInt8(ascii: "["):
            return .array(try elements(range).prefix(1).map { try bounded($0, cap: cap) })
        default:
            return try decode(range)
        }
    }

    private func string(_ range: Range<Int>) throws -> String {
        let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        if !inner.contains(UInt8(ascii: "\\")), let text = String(validating: inner, as: UTF8.self) { return text }
        guard case .string(let text) = try decode(range) else { throw Problem(offset: range.lowerBound, detail: "expected a string") }
        return text
    }

    private func skipWhitespace(_ start: Int) -> Int {
        var index = start
        while index < bytes.count, JSONBytes.isWhitespace(bytes[index]) { index += 1 }
        return index
    }

    /// The index just past the value starting at `start`: strings (with escapes) and nesting tracked.
    private func end(of start: Int) throws -> Int {
        try bytes.withUnsafeBufferPointer { b in
            var index = start
            var depth = 0
            var inString = false
            while index < b.count {
                let byte = b[index]
                index += 1
                if inString {
                    if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 { return index }
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 {   // ends a scalar, or closes nothing
                        guard index - 1 > start else { throw Problem(offset: start, detail: "unbalanced '\(Character(UnicodeScalar(byte)))'") }
                        return index - 1
                    }
                    depth -= 1
                    if depth == 0 { return index }
                default:
                    // A scalar ends at a separator or whitespace.
                    if depth == 0 && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":") || JSONBytes.isWhitespace(byte)) { return index - 1 }
                }
            }
            if depth == 0 && !inString && index > start { return index }
            throw Problem(offset: start, detail: "the value does not end")
        }
    }
}
