import Foundation

/// RFC 4180 CSV read one record at a time: comma-separated, fields optionally quoted with `"`, `""`
/// for a quote inside a quoted field, quoted fields may span lines, CRLF or LF line ends. The
/// delimiters are ASCII, so the scan works on UTF-8 bytes; fields are checked as UTF-8 by the reader.
/// A record longer than the limit is skipped (its quotes still tracked) and reported as too long.
struct CSVParser {
    enum Record {
        case fields([[UInt8]], line: Int)
        case tooLong(BoundedBytes, line: Int)
    }

    let limit: Int
    let file: String
    private var line = 1

    init(limit: Int, file: String) {
        self.limit = limit
        self.file = file
    }

    /// The next non-empty record; nil at the end of the file.
    mutating func next(_ input: InputBuffer) throws -> Record? {
        while true {
            guard let record = try readRecord(input) else { return nil }
            if case .fields(let fields, _) = record, fields.count == 1 && fields[0].isEmpty { continue }  // a blank line
            return record
        }
    }

    private mutating func readRecord(_ input: InputBuffer) throws -> Record? {
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var raw = BoundedBytes(limit: limit)   // the record's bytes, for its length and excerpt
        var inQuotes = false
        var quoteInQuotes = false   // a '"' inside quotes: closes them unless another '"' follows
        var pendingCR = false       // a '\r' outside quotes: dropped when '\n' follows
        var quoteStartLine = line
        let rowStartLine = line
        var sawAny = false
        func record() -> Record {
            raw.overflowed ? .tooLong(raw, line: rowStartLine) : .fields(fields + [field], line: rowStartLine)
        }
        while true {
            let bytes = try input.available()
            if bytes.isEmpty {
                if quoteInQuotes { inQuotes = false }
                if inQuotes {
                    throw InputError(file: file, line: quoteStartLine, reason: "malformed CSV: a quoted field opened on this line is never closed")
                }
                if pendingCR { field.append(0x0d) }
                return sawAny ? record() : nil
            }
            sawAny = true
            for (i, byte) in bytes.enumerated() {
                if byte == JSONBytes.newline { line += 1 }
                if quoteInQuotes {
                    quoteInQuotes = false
                    if byte == UInt8(ascii: "\"") { keep(&field, byte, raw); continue }
                    inQuotes = false
                }
                if inQuotes {
                    if byte == UInt8(ascii: "\"") { quoteInQuotes = true } else { keep(&field, byte, raw) }
                    continue
                }
                if pendingCR {
                    pendingCR = false
                    if byte != JSONBytes.newline { keep(&field, 0x0d, raw) }
                }
                switch byte {
                case UInt8(ascii: "\"") where field.isEmpty:
                    inQuotes = true
                    quoteStartLine = line
                case UInt8(ascii: ","):
                    if !raw.overflowed { fields.append(field) }
                    field = []
                case 0x0d: pendingCR = true
                case JSONBytes.newline:
                    raw.append(UnsafeBufferPointer(rebasing: bytes[..<i]))
                    input.consume(i + 1)
                    return record()
                default: keep(&field, byte, raw)
                }
            }
            raw.append(bytes)
            input.consume(bytes.count)
            if raw.overflowed { fields = []; field = [] }
        }
    }

    /// Adds a byte to the field unless the record is already past the limit.
    @inline(__always) private func keep(_ field: inout [UInt8], _ byte: UInt8, _ raw: BoundedBytes) {
        if raw.length + field.count <= limit { field.append(byte) }
    }
}
