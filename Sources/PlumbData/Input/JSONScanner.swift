import Foundation

/// Finds where top-level JSON values start and end in a byte buffer without parsing them, so each
/// element of a large JSON array can be decoded on its own and reported with its line number.
enum JSONScanner {
    struct Element {
        var range: Range<Int>
        var line: Int
    }

    private static let newline = UInt8(ascii: "\n")

    /// The elements of a top-level array. Throws, naming the line, when the array is cut short.
    static func arrayElements(_ bytes: UnsafeBufferPointer<UInt8>, file: String) throws -> [Element] {
        var index = 0
        var line = 1
        skipWhitespace(bytes, &index, &line)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            throw InputError(file: file, line: line, reason: "expected a JSON array")
        }
        index += 1
        var elements: [Element] = []
        while true {
            skipWhitespace(bytes, &index, &line)
            guard index < bytes.count else {
                throw InputError(file: file, line: line, reason: "truncated JSON: the top-level array is not closed")
            }
            if bytes[index] == UInt8(ascii: "]") && elements.isEmpty { index += 1; break }
            let startLine = line
            let start = index
            try skipValue(bytes, &index, &line, file: file)
            elements.append(Element(range: start..<index, line: startLine))
            skipWhitespace(bytes, &index, &line)
            guard index < bytes.count else {
                throw InputError(file: file, line: line, reason: "truncated JSON: the top-level array is not closed")
            }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw InputError(file: file, line: line, reason: "malformed JSON: expected ',' or ']' after array element \(elements.count)")
        }
        skipWhitespace(bytes, &index, &line)
        guard index == bytes.count else {
            throw InputError(file: file, line: line, reason: "malformed JSON: text after the top-level array")
        }
        return elements
    }

    /// Whether the buffer holds exactly one top-level value (as opposed to JSON Lines).
    static func isSingleValue(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        var line = 1
        skipWhitespace(bytes, &index, &line)
        guard (try? skipValue(bytes, &index, &line, file: "")) != nil else { return false }
        skipWhitespace(bytes, &index, &line)
        return index == bytes.count
    }

    private static func skipWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ line: inout Int) {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == newline { line += 1 } else if byte != 0x20 && byte != 0x09 && byte != 0x0d { return }
            index += 1
        }
    }

    /// Skips one value (object, array, string or scalar), counting newlines.
    private static func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ line: inout Int, file: String) throws {
        var depth = 0
        var inString = false
        let startLine = line
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == newline { line += 1 }
            if inString {
                if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return }
                if depth < 0 { throw InputError(file: file, line: line, reason: "malformed JSON: unbalanced '\(Character(UnicodeScalar(byte)))'") }
            case UInt8(ascii: ","), 0x20, 0x09, 0x0a, 0x0d:
                if depth == 0 { index -= 1; if byte == newline { line -= 1 }; return }
            default: break
            }
        }
        if depth != 0 || inString {
            throw InputError(file: file, line: startLine, reason: "truncated JSON: the value starting on this line is not closed")
        }
    }
}
