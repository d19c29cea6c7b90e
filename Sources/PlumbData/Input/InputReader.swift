import Foundation
import PlumbStore

/// How rows are laid out in a file.
public enum Container: String, Sendable {
    case jsonLines = "JSON Lines"
    case jsonArray = "JSON array"
    case jsonObject = "JSON object"
    case csv = "CSV"
}

/// One row of an input file: its parsed value, or the reason it could not be parsed.
public struct InputRow: Sendable {
    public var source: SourceRef
    public var value: JSONValue?
    public var problem: RowProblem?
    /// The row's text (for quarantine excerpts).
    public var raw: String
}

/// A file read into rows.
public struct InputFile: Sendable {
    public var path: String
    public var compression: Compression
    public var container: Container
    /// CSV only: the header's column names.
    public var csvHeader: [String]
    public var rows: [InputRow]

    /// Reads, decompresses and splits a file into rows. File-level damage (a cut-short gzip, a JSON
    /// array that never closes, an unterminated CSV quote) throws; a bad line in JSON Lines becomes
    /// a row with a problem, to be quarantined. CSV is read for a `.csv` name or when `csv` is set.
    public static func read(_ path: String, csv: Bool = false) throws -> InputFile {
        var (data, compression) = try Decompression.readFile(path)
        if data.starts(with: [0xef, 0xbb, 0xbf]) { data = data.dropFirst(3) }  // a UTF-8 byte-order mark
        let name = stripCompressionSuffix(path.lowercased())
        if csv || name.hasSuffix(".csv") {
            guard let text = String(data: data, encoding: .utf8) else {
                throw InputError(file: path, reason: "CSV is not valid UTF-8")
            }
            let (header, csvRows) = try CSVParser.parse(text, file: path)
            let rows = csvRows.map { csvRow in
                csvRowToInput(csvRow, header: header, file: path)
            }
            return InputFile(path: path, compression: compression, container: .csv, csvHeader: header, rows: rows)
        }
        return try data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let first = bytes.first { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }
            if first == UInt8(ascii: "[") {
                let rows = try JSONScanner.arrayElements(bytes, file: path).map { element in
                    parseRow(UnsafeBufferPointer(rebasing: bytes[element.range]), source: SourceRef(file: path, line: element.line))
                }
                return InputFile(path: path, compression: compression, container: .jsonArray, csvHeader: [], rows: rows)
            }
            if first == UInt8(ascii: "{") && !name.hasSuffix(".jsonl") && JSONScanner.isSingleValue(bytes) {
                let row = parseRow(bytes, source: SourceRef(file: path, line: 1))
                return InputFile(path: path, compression: compression, container: .jsonObject, csvHeader: [], rows: [row])
            }
            return InputFile(path: path, compression: compression, container: .jsonLines, csvHeader: [], rows: jsonLines(bytes, file: path))
        }
    }

    static func stripCompressionSuffix(_ name: String) -> String {
        for suffix in [".gz", ".zst"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
        return name
    }

    private static func jsonLines(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> [InputRow] {
        var rows: [InputRow] = []
        var start = 0
        var line = 1
        for index in 0...bytes.count {
            guard index == bytes.count || bytes[index] == UInt8(ascii: "\n") else { continue }
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
            if slice.contains(where: { $0 != 0x20 && $0 != 0x0d && $0 != 0x09 }) {
                rows.append(parseRow(slice, source: SourceRef(file: file, line: line)))
            }
            start = index + 1
            line += 1
        }
        return rows
    }

    private static func parseRow(_ bytes: UnsafeBufferPointer<UInt8>, source: SourceRef) -> InputRow {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let lossy = String(decoding: bytes.prefix(500), as: UTF8.self)
            return InputRow(source: source, value: nil, problem: RowProblem(.invalidUTF8, "the row is not valid UTF-8"), raw: lossy)
        }
        do {
            let value = try JSONValue.parse(Data(bytes))
            return InputRow(source: source, value: value, problem: nil, raw: text)
        } catch {
            return InputRow(source: source, value: nil,
                            problem: RowProblem(.invalidJSON, "not valid JSON (\(describe(error)))"), raw: text)
        }
    }

    private static func csvRowToInput(_ row: CSVParser.CSVRow, header: [String], file: String) -> InputRow {
        let source = SourceRef(file: file, line: row.line)
        let raw = row.fields.joined(separator: ",")
        guard row.fields.count == header.count else {
            return InputRow(source: source, value: nil,
                            problem: RowProblem(.wrongColumnCount, "the row has \(row.fields.count) fields, the header \(header.count)"), raw: raw)
        }
        var object: [String: JSONValue] = [:]
        for (name, field) in zip(header, row.fields) { object[name] = .string(field) }
        return InputRow(source: source, value: .object(object), problem: nil, raw: raw)
    }

    static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return String(describing: error)
    }
}
