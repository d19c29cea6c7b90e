// Reads responses to judge from message-list JSONL: {"id", "messages": [user..., assistant...], "tags"}.
// Every malformed line is an error naming the file, the line and the field.

import Foundation
import PlumbTask

public enum ResponseFile {
    public static func load(_ url: URL) throws -> [JudgedResponse] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw OracleInputError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        var out: [JudgedResponse] = []
        var seen = Set<String>()
        let decoder = JSONDecoder()
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let where_ = "\(url.path) line \(index + 1)"
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let record: MessageRecord
            do { record = try decoder.decode(MessageRecord.self, from: Data(line.utf8)) } catch {
                throw OracleInputError("\(where_): not a message-list record (needs \"id\", \"messages\", \"tags\"): \(error)")
            }
            guard let prompt = record.prompt else { throw OracleInputError("\(where_) (id \(record.id)): field \"messages\" has no user turn") }
            guard let response = record.response else {
                throw OracleInputError("\(where_) (id \(record.id)): field \"messages\" has no assistant turn to judge")
            }
            guard seen.insert(record.id).inserted else { throw OracleInputError("\(where_): id \"\(record.id)\" appears twice") }
            out.append(JudgedResponse(id: record.id, prompt: prompt, response: response))
        }
        return out
    }
}
