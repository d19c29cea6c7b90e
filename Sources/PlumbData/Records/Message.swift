import Foundation

/// Who speaks a conversation turn.
public enum Role: String, Codable, CaseIterable, Sendable {
    case system
    case user
    case assistant
}

/// One conversation turn.
public struct Message: Codable, Equatable, Hashable, Sendable {
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> Message { Message(role: .system, content: content) }
    public static func user(_ content: String) -> Message { Message(role: .user, content: content) }
    public static func assistant(_ content: String) -> Message { Message(role: .assistant, content: content) }
}

/// Where a record came from: the input file and its 1-based line (for JSON arrays, the line on
/// which the element starts; for CSV, the line on which the row starts).
public struct SourceRef: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// A prompt: the conversation up to (not including) the response being judged or demonstrated.
/// `id` is the source's id when it has one, otherwise a hash of the messages (`Prompt.contentID`).
public struct Prompt: Codable, Equatable, Hashable, Sendable {
    public var id: String
    public var messages: [Message]
    /// Free-form labels, e.g. `safety` for prompts chosen to probe harmful behaviour.
    public var tags: [String]

    public init(id: String? = nil, messages: [Message], tags: [String] = []) {
        self.id = id ?? Prompt.contentID(messages)
        self.messages = messages
        self.tags = tags
    }

    /// The prompt's text as one string (for hashing, de-duplication and splits).
    public var text: String {
        messages.map { "\($0.role.rawValue): \($0.content)" }.joined(separator: "\n")
    }

    /// A stable id from the messages: `p-` and 16 hex digits of FNV-1a 64 over roles and contents.
    public static func contentID(_ messages: [Message]) -> String {
        var hasher = FNV1a64()
        for message in messages {
            hasher.add(message.role.rawValue)
            hasher.add("\u{1}")
            hasher.add(message.content)
            hasher.add("\u{2}")
        }
        return "p-" + hasher.hex
    }
}

/// FNV-1a, 64-bit: a small stable hash (Swift's `Hasher` is seeded per process, so unusable for ids).
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ string: String) {
        for byte in string.utf8 { add(byte) }
    }

    @inline(__always)
    public mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public static func hash(_ string: String) -> UInt64 {
        var hasher = FNV1a64()
        hasher.add(string)
        return hasher.value
    }
}
