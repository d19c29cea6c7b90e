import Foundation

/// RFC 4180 CSV: comma-separated, fields optionally quoted with `"`, `""` for a quote inside a
/// quoted field, quoted fields may span lines. The first row is the header.
enum CSVParser {
    struct CSVRow {
        var fields: [String]
        var line: Int
    }

    static func parse(_ text: String, file: String) throws -> (header: [String], rows: [CSVRow]) {
        var rows: [CSVRow] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var rowStartLine = 1
        var quoteStartLine = 1
        var iterator = Array(text.unicodeScalars)[...]
        func endRow() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(CSVRow(fields: fields, line: rowStartLine)) }
            fields = []
        }
        while let scalar = iterator.popFirst() {
            if inQuotes {
                if scalar == "\"" {
                    if iterator.first == "\"" { iterator.removeFirst(); field.unicodeScalars.append("\"") } else { inQuotes = false }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
                quoteStartLine = line
            case ",":
                fields.append(field)
                field = ""
            case "\r" where iterator.first == "\n":
                break
            case "\n":
                endRow()
                line += 1
                rowStartLine = line
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes {
            throw InputError(file: file, line: quoteStartLine, reason: "malformed CSV: a quoted field opened on this line is never closed")
        }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        guard let header = rows.first else { throw InputError(file: file, line: 1, reason: "empty CSV: no header row") }
        return (header.fields.map { $0.trimmingCharacters(in: .whitespaces) }, Array(rows.dropFirst()))
    }
}
