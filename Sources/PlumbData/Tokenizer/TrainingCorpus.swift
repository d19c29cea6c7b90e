import Foundation
import PlumbStore

/// Gathers tokenizer-training text: plain text files as they are, and the texts inside record
/// shards (message contents, responses, chosen/rejected, rankings, edits).
public enum TrainingCorpus {
    /// Fields whose string values (at any depth) are text to learn from.
    static let textFields: Set<String> = ["content", "chosen", "rejected", "response", "responses", "original", "edited"]

    /// The texts inside one record.
    public static func texts(in record: JSONValue) -> [String] {
        var texts: [String] = []
        collect(record, key: nil, into: &texts)
        return texts
    }

    private static func collect(_ value: JSONValue, key: String?, into texts: inout [String]) {
        switch value {
        case .string(let text) where key.map(textFields.contains) == true: texts.append(text)
        case .array(let items): for item in items { collect(item, key: key, into: &texts) }
        case .object(let fields): for (name, field) in fields.sorted(by: { $0.key < $1.key }) { collect(field, key: name, into: &texts) }
        default: break
        }
    }

    /// Writes the texts of every record under `shardPath` (a shard, a stage or a run directory) to
    /// `destination`, one text per line (newlines inside a text become line breaks, which is how
    /// SentencePiece reads sentences). Returns the number of texts written.
    @discardableResult
    public static func writeShardTexts(from shardPath: URL, to destination: URL) throws -> Int {
        let reader = try ShardReader(path: shardPath)
        var output = Data()
        var count = 0
        while let line = try reader.nextData() {
            for text in texts(in: try JSONDecoder().decode(JSONValue.self, from: line)) where !text.isEmpty {
                output.append(contentsOf: text.utf8)
                output.append(0x0a)
                count += 1
            }
        }
        try output.write(to: destination)
        return count
    }
}
