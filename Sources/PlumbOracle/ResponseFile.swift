// Message-list JSONL, `{"id", "messages": [user..., assistant...], "tags"}`: prompt sets to answer and
// responses to judge. Every malformed line is an error naming the file, the line and the field.

import Foundation
import PlumbTask

public enum ResponseFile {
    /// Every record of the file, with its 1-based line number; ids must be unique.
    public static func records(_ url: URL) throws -> [(line: Int, record: MessageRecord)] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw OracleInputError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        var out: [(line: Int, record: MessageRecord)] = []
        var seen = Set<String>()
        let decoder = JSONDecoder()
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let where_ = "\(url.path) line \(index + 1)"
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let record: MessageRecord
            do { record = try decoder.decode(MessageRecord.self, from: Data(line.utf8)) } catch {
                throw OracleInputError("\(where_): not a message-list record (needs \"id\", \"messages\", \"tags\"): \(error)")
            }
            guard record.prompt != nil else { throw OracleInputError("\(where_) (id \(record.id)): field \"messages\" has no user turn") }
            guard seen.insert(record.id).inserted else { throw OracleInputError("\(where_): id \"\(record.id)\" appears twice") }
            out.append((index + 1, record))
        }
        return out
    }

    /// Prompts to answer (records whose messages hold at least a user turn).
    public static func loadPrompts(_ url: URL) throws -> [MessageRecord] {
        try records(url).map(\.record)
    }

    /// Responses to judge: each record needs a user and an assistant turn.
    public static func load(_ url: URL) throws -> [JudgedResponse] {
        try records(url).map { line, record in
            guard let response = record.response else {
                throw OracleInputError("\(url.path) line \(line) (id \(record.id)): field \"messages\" has no assistant turn to judge")
            }
            return JudgedResponse(id: record.id, prompt: record.prompt!, response: response)
        }
    }

    /// Writes answered prompts as message-list JSONL (readable by `load`, e.g. for `--versus`).
    public static func write(_ records: [MessageRecord], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for record in records {
            data += try encoder.encode(record)
            data.append(0x0A)
        }
        try data.write(to: url, options: .atomic)
    }
}
