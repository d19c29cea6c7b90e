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
    /// The row's first 500 bytes as text (for quarantine excerpts).
    public var raw: String
    /// The row's bytes, undecoded, when the file is read with `decodesRows` off.
    var bytes: [UInt8]? = nil
}

/// A file read row by row: decompressed as it goes, the container told from its first bytes, each
/// row held only up to `InputLimits.maxLineBytes`. File-level damage (a cut-short gzip, a JSON array
/// that never closes, an unterminated CSV quote, too many decompressed bytes) throws; a bad row
/// (invalid JSON or UTF-8, too long) comes back with a problem, to be quarantined. CSV is read for
/// a `.csv` name or when `csv` is set. `path` is the file's name as rows and errors give it; the
/// bytes are read from `readFrom` when given (the name resolved against another directory).
final class InputFile {
    let path: String
    let container: Container
    /// CSV only: the header's column names.
    private(set) var csvHeader: [String] = []
    /// Rows returned so far.
    private(set) var rowsRead = 0
    /// `--columns`: canonical field -> input field; each row's mapped fields are returned under
    /// their canonical names (the input names removed), other fields as they are.
    var rename: [String: String] = [:]
    /// Off: JSON rows come back as bytes (`InputRow.bytes`), for a converter that walks them
    /// itself (`ShallowJSON`) instead of decoding a huge row whole.
    var decodesRows = true
    /// Rows longer than this are decoded cut down (`ShallowJSON.bounded`): format detection needs
    /// the names of a row's fields, not a whole 64 MB tree.
    var boundedAbove: Int?
    var compression: Compression { input.compression }
    var bytesDecompressed: Int { input.bytesDecompressed }
    private let input: InputBuffer
    private var rows: RowSource

    private enum RowSource {
        case lines(JSONLineReader)
        case array(JSONArrayReader)
        case object(JSONScanner, done: Bool)
        case csv(CSVParser)
    }

    init(_ path: String, csv: Bool = false, limits: InputLimits = InputLimits(), readFrom: String? = nil) throws {
        self.path = path
        let name = InputFile.stripCompressionSuffix(path.lowercased())
        let location = readFrom ?? path
        container = csv || name.hasSuffix(".csv") ? .csv : try InputFile.container(location, name: name, limits: limits)
        input = try InputBuffer(path: location, maxDecompressedBytes: limits.maxDecompressedBytes)
        if try input.available().starts(with: [0xef, 0xbb, 0xbf]) { input.consume(3) }  // a UTF-8 byte-order mark
        switch container {
        case .jsonLines: rows = .lines(JSONLineReader(limit: limits.maxLineBytes))
        case .jsonArray: rows = .array(JSONArrayReader(limit: limits.maxLineBytes, file: path))
        case .jsonObject: rows = .object(JSONScanner(limit: limits.maxLineBytes, file: path), done: false)
        case .csv:
            var parser = CSVParser(limit: limits.maxLineBytes, file: path)
            guard case .fields(let header, _)? = try parser.next(input) else {
                throw InputError(file: path, line: 1, reason: "empty CSV, or a header row longer than the limit: no header row")
            }
            csvHeader = try header.map { bytes in
                guard let name = String(validating: bytes, as: UTF8.self) else {
                    throw InputError(file: path, line: 1, reason: "the CSV header is not valid UTF-8")
                }
                return name.trimmingCharacters(in: .whitespaces)
            }
            rows = .csv(parser)
        }
    }

    /// The next row; nil at the end of the file.
    func next() throws -> InputRow? {
        let row: InputRow?
        switch rows {
        case .lines(var reader):
            var found: InputRow?
            while found == nil, let line = try reader.next(input) {
                if !line.bytes.overflowed && line.bytes.bytes.allSatisfy(JSONBytes.isWhitespace) { continue }  // a blank line
                found = parseRow(line)
            }
            rows = .lines(reader)
            row = found
        case .array(var reader):
            row = try reader.next(input).map { parseRow($0.bytes, line: $0.line) }
            rows = .array(reader)
        case .object(var scanner, let done):
            let atEnd = try done || scanner.skipWhitespace(input) == nil
            row = atEnd ? nil : parseRow(try scanner.value(input))
            rows = .object(scanner, done: true)
        case .csv(var parser):
            row = try parser.next(input).map(csvRow)
            rows = .csv(parser)
        }
        if row != nil { rowsRead += 1 }
        guard !rename.isEmpty, var renamed = row, let object = renamed.value?.objectValue else { return row }
        renamed.value = .object(InputFile.renaming(object, rename))
        return renamed
    }

    /// Field names after `mapping`.
    static func renaming(_ keys: Set<String>, _ mapping: [String: String]) -> Set<String> {
        keys.subtracting(mapping.values).union(mapping.filter { keys.contains($0.value) }.keys)
    }

    /// `object` with each mapped input field under its canonical name.
    static func renaming(_ object: [String: JSONValue], _ mapping: [String: String]) -> [String: JSONValue] {
        var out = object
        for column in mapping.values { out.removeValue(forKey: column) }
        for (field, column) in mapping { if let value = object[column] { out[field] = value } }
        return out
    }

    /// Reads every row's object (for small side files: Label Studio tasks, Argilla study texts).
    static func objects(_ path: String, limits: InputLimits, readFrom: String? = nil,
                        _ transform: (JSONValue?) -> [String: JSONValue]) throws -> [[String: JSONValue]] {
        let file = try InputFile(path, limits: limits, readFrom: readFrom)
        var objects: [[String: JSONValue]] = []
        while let row = try file.next() { objects.append(transform(row.value)) }
        return objects
    }

    static func stripCompressionSuffix(_ name: String) -> String {
        for suffix in [".gz", ".zst"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
        return name
    }

    /// A JSON array when the first byte is '['; one JSON object when the first value is an object
    /// followed by nothing but whitespace (and the name does not say `.jsonl`); else JSON Lines.
    /// Reads, from its own stream, at most the first value and at most `detectionBytes`: a file
    /// whose first value does not end well within them is read as JSON Lines.
    private static func container(_ path: String, name: String, limits: InputLimits) throws -> Container {
        let probe = try InputBuffer(path: path, maxDecompressedBytes: min(limits.maxDecompressedBytes, limits.detectionBytes))
        do {
            if try probe.available().starts(with: [0xef, 0xbb, 0xbf]) { probe.consume(3) }
            var scanner = JSONScanner(limit: limits.maxLineBytes, file: path)
            switch try scanner.skipWhitespace(probe) {
            case UInt8(ascii: "[")?: return .jsonArray
            case UInt8(ascii: "{")? where !name.hasSuffix(".jsonl"):
                _ = try scanner.value(probe)
                return try scanner.skipWhitespace(probe) == nil ? .jsonObject : .jsonLines
            default: return .jsonLines
            }
        } catch {
            return .jsonLines   // damaged streams are reported by the reader, which reads the same bytes
        }
    }

    private func parseRow(_ row: (bytes: BoundedBytes, line: Int)) -> InputRow { parseRow(row.bytes, line: row.line) }

    private func parseRow(_ bytes: BoundedBytes, line: Int) -> InputRow {
        let source = SourceRef(file: path, line: line)
        let excerpt = String(decoding: bytes.bytes.prefix(BoundedBytes.excerptBytes), as: UTF8.self)
        if bytes.overflowed { return InputRow(source: source, value: nil, problem: bytes.tooLongProblem, raw: excerpt) }
        if !decodesRows { return InputRow(source: source, value: nil, problem: nil, raw: excerpt, bytes: bytes.bytes) }
        if let cap = boundedAbove, bytes.length > cap {
            let shallow = ShallowJSON(bytes: bytes.bytes)
            if let value = try? shallow.bounded(try shallow.root, cap: cap) { return InputRow(source: source, value: value, problem: nil, raw: excerpt) }
        }
        // Parsed in place (no copy of the row); the JSON parser refuses invalid UTF-8, and only then is
        // the row checked to say which problem it has.
        let parsed = bytes.bytes.withUnsafeBytes { raw in
            Result { try JSONValue.parse(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!),
                                              count: raw.count, deallocator: .none)) }
        }
        switch parsed {
        case .success(let value):
            return InputRow(source: source, value: value, problem: nil, raw: excerpt)
        case .failure where String(validating: bytes.bytes, as: UTF8.self) == nil:
            return InputRow(source: source, value: nil, problem: RowProblem(.invalidUTF8, "the row is not valid UTF-8"), raw: excerpt)
        case .failure(let error):
            return InputRow(source: source, value: nil, problem: RowProblem(.invalidJSON, "not valid JSON (\(InputFile.describe(error)))"), raw: excerpt)
        }
    }

    private func csvRow(_ record: CSVParser.Record) -> InputRow {
        switch record {
        case .tooLong(let bytes, let line):
            let excerpt = String(decoding: bytes.bytes.prefix(BoundedBytes.excerptBytes), as: UTF8.self)
            return InputRow(source: SourceRef(file: path, line: line), value: nil, problem: bytes.tooLongProblem, raw: excerpt)
        case .fields(let fields, let line):
            let source = SourceRef(file: path, line: line)
            let texts = fields.compactMap { String(validating: $0, as: UTF8.self) }
            let raw = String(decoding: Array(fields.joined(separator: [UInt8(ascii: ",")]).prefix(BoundedBytes.excerptBytes)), as: UTF8.self)
            guard texts.count == fields.count else {
                return InputRow(source: source, value: nil, problem: RowProblem(.invalidUTF8, "the row is not valid UTF-8"), raw: raw)
            }
            guard texts.count == csvHeader.count else {
                return InputRow(source: source, value: nil,
                                problem: RowProblem(.wrongColumnCount, "the row has \(texts.count) fields, the header \(csvHeader.count)"), raw: raw)
            }
            var object: [String: JSONValue] = [:]
            for (name, field) in zip(csvHeader, texts) { object[name] = .string(field) }
            return InputRow(source: source, value: .object(object), problem: nil, raw: raw)
        }
    }

    static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return String(describing: error)
    }
}
