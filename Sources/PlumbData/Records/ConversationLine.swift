// One conversation as a JSON line, {"messages": [{"role": ..., "content": ...}]} (`plumb export
// chat-ids`, which pipelines/check-gguf.sh feeds).
import Foundation

extension Message {
    /// The messages of `jsonLine` (line `line` of `file`); a malformed line or message is an error naming both.
    public static func conversation(jsonLine: String, file: String, line: Int) throws -> [Message] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any],
              let list = object["messages"] as? [[String: String]] else {
            throw InputError(file: file, line: line, reason: "expected {\"messages\": [{\"role\": ..., \"content\": ...}]}")
        }
        return try list.enumerated().map { i, m in
            guard let role = m["role"].flatMap(Role.init(rawValue:)), let content = m["content"] else {
                throw InputError(file: file, line: line, field: "messages[\(i)]", reason: "message \(i + 1) needs a role (system, user, assistant) and content")
            }
            return Message(role: role, content: content)
        }
    }
}
