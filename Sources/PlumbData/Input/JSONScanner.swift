import Foundation

/// Finds where JSON values start and end in a stream of bytes without parsing them (strings,
/// escapes and nesting are tracked), so each element of a large JSON array is decoded on its own and
/// reported with its line number, and no value is held past the row limit.
struct JSONScanner {
    /// The line of the read position (1-based).
    var line = 1
    let limit: Int
    let file: String

    init(limit: Int, file: String) {
        self.limit = limit
        self.file = file
    }

    /// Skips whitespace, counting lines; returns the next byte (not consumed), nil at the end.
    mutating func skipWhitespace(_ input: InputBuffer) throws -> UInt8? {
        line += try input.skipWhitespace()
        return try input.peek()
    }

    /// Reads the value at the read position (an object, array, string or scalar) and its start line.
    /// Throws, naming that line, when the input ends inside it.
    mutating func value(_ input: InputBuffer) throws -> (bytes: BoundedBytes, line: Int) {
        var value = BoundedBytes(limit: limit)
        let startLine = line
        var depth = 0
        var inString = false
        var escaped = false
        while true {
            let bytes = try input.available()
            if bytes.isEmpty {
                if depth != 0 || inString {
                    throw InputError(file: file, line: startLine, reason: "truncated JSON: the value starting on this line is not closed")
                }
                return (value, startLine)
            }
            var i = 0
            var done = false
            scan: while i < bytes.count {
                let byte = bytes[i]
                if byte == JSONBytes.newline { line += 1 }
                if inString {
                    i += 1
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 { done = true; break scan }
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 {   // ends a scalar, or closes nothing
                        if value.length == 0 && i == 0 {
                            throw InputError(file: file, line: line, reason: "malformed JSON: unbalanced '\(Character(UnicodeScalar(byte)))'")
                        }
                        done = true
                        break scan
                    }
                    depth -= 1
                    if depth == 0 { i += 1; done = true; break scan }
                case UInt8(ascii: ","), 0x20, 0x09, 0x0a, 0x0d:
                    if depth == 0 {   // a scalar ends here (the byte is not part of it)
                        if byte == JSONBytes.newline { line -= 1 }
                        done = true
                        break scan
                    }
                default: break
                }
                i += 1
            }
            value.append(UnsafeBufferPointer(rebasing: bytes[..<i]))
            input.consume(i)
            if done { return (value, startLine) }
        }
    }
}

/// The elements of a top-level JSON array, one at a time. Throws, naming the line, when the array
/// is cut short, malformed between elements, or followed by more text.
struct JSONArrayReader {
    private var scanner: JSONScanner
    private var started = false
    private var finished = false
    private var count = 0

    init(limit: Int, file: String) { scanner = JSONScanner(limit: limit, file: file) }

    mutating func next(_ input: InputBuffer) throws -> (bytes: BoundedBytes, line: Int)? {
        if finished { return nil }
        if !started {
            guard try scanner.skipWhitespace(input) == UInt8(ascii: "[") else {
                throw InputError(file: scanner.file, line: scanner.line, reason: "expected a JSON array")
            }
            input.consume(1)
            started = true
            if try scanner.skipWhitespace(input) == UInt8(ascii: "]") { return try finish(input) }
        } else {
            switch try scanner.skipWhitespace(input) {
            case UInt8(ascii: ",")?: input.consume(1)
            case UInt8(ascii: "]")?: return try finish(input)
            case nil: throw truncated()
            default:
                throw InputError(file: scanner.file, line: scanner.line, reason: "malformed JSON: expected ',' or ']' after array element \(count)")
            }
        }
        guard try scanner.skipWhitespace(input) != nil else { throw truncated() }
        count += 1
        return try scanner.value(input)
    }

    private mutating func finish(_ input: InputBuffer) throws -> (bytes: BoundedBytes, line: Int)? {
        input.consume(1)
        finished = true
        if try scanner.skipWhitespace(input) != nil {
            throw InputError(file: scanner.file, line: scanner.line, reason: "malformed JSON: text after the top-level array")
        }
        return nil
    }

    private func truncated() -> InputError {
        InputError(file: scanner.file, line: scanner.line, reason: "truncated JSON: the top-level array is not closed")
    }
}

/// JSON Lines: one row per '\n'-terminated line, each held up to the limit.
struct JSONLineReader {
    /// The number of the last line read.
    private(set) var line = 0
    let limit: Int

    mutating func next(_ input: InputBuffer) throws -> (bytes: BoundedBytes, line: Int)? {
        var row = BoundedBytes(limit: limit)
        while true {
            let bytes = try input.available()
            if bytes.isEmpty {
                guard row.length > 0 else { return nil }
                line += 1
                return (row, line)
            }
            if let found = memchr(bytes.baseAddress!, Int32(JSONBytes.newline), bytes.count) {
                let newline = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - bytes.baseAddress!
                row.append(UnsafeBufferPointer(rebasing: bytes[..<newline]))
                input.consume(newline + 1)
                line += 1
                return (row, line)
            }
            row.append(bytes)
            input.consume(bytes.count)
        }
    }
}
