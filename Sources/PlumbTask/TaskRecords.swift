// The record shapes the generator writes, in the formats users bring: message-list JSONL,
// TRL-style conversational comparisons, and Label Studio JSON exports (Ranker and TextArea).

public struct ChatMessage: Codable, Equatable, Sendable {
    public var role: String
    public var content: String

    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// `{"id", "messages": [user, assistant?], "tags"}`: SFT demonstrations and prompt sets.
public struct MessageRecord: Codable, Equatable, Sendable {
    public var id: String
    public var messages: [ChatMessage]
    public var tags: [String]

    public init(id: String, messages: [ChatMessage], tags: [String]) {
        self.id = id
        self.messages = messages
        self.tags = tags
    }

    /// The first user turn.
    public var prompt: String? { messages.first { $0.role == "user" }?.content }
    /// The last assistant turn.
    public var response: String? { messages.last { $0.role == "assistant" }?.content }
}

/// A TRL-style conversational preference pair with Llama 2's extras.
public struct ComparisonRecord: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: [ChatMessage]
    public var chosen: [ChatMessage]
    public var rejected: [ChatMessage]
    public var dimension: String
    public var strength: PreferenceStrength
    public var annotator: String
    public var chosenSafe: Bool
    public var rejectedSafe: Bool
    public var tags: [String]
    /// The prompt's record id, when the pair was made on a prompt set's prompt (on-policy annotation);
    /// absent from the generated comparisons.jsonl.
    public var promptId: String?

    public init(id: String, prompt: [ChatMessage], chosen: [ChatMessage], rejected: [ChatMessage], dimension: String,
                strength: PreferenceStrength, annotator: String, chosenSafe: Bool, rejectedSafe: Bool, tags: [String],
                promptId: String? = nil) {
        self.id = id; self.prompt = prompt; self.chosen = chosen; self.rejected = rejected; self.dimension = dimension
        self.strength = strength; self.annotator = annotator; self.chosenSafe = chosenSafe; self.rejectedSafe = rejectedSafe
        self.tags = tags; self.promptId = promptId
    }

    enum CodingKeys: String, CodingKey {
        case id, prompt, chosen, rejected, dimension, strength, annotator, tags
        case chosenSafe = "chosen_safe"
        case rejectedSafe = "rejected_safe"
        case promptId = "prompt_id"
    }
}

// MARK: Label Studio export

/// One result of an annotation; `Value` is `RankerValue` or `TextAreaValue`.
public struct LabelStudioResult<Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var id: String
    public var fromName: String
    public var toName: String
    public var type: String
    public var origin: String
    public var value: Value

    public init(id: String, fromName: String, toName: String, type: String, origin: String, value: Value) {
        self.id = id; self.fromName = fromName; self.toName = toName; self.type = type; self.origin = origin; self.value = value
    }

    enum CodingKeys: String, CodingKey {
        case id, type, origin, value
        case fromName = "from_name"
        case toName = "to_name"
    }
}

public struct RankerValue: Codable, Equatable, Sendable {
    /// Item ids, best first.
    public var ranker: [String]
    public init(ranker: [String]) { self.ranker = ranker }
}

public struct TextAreaValue: Codable, Equatable, Sendable {
    public var text: [String]
    public init(text: [String]) { self.text = text }
}

public struct LabelStudioAnnotation<Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var id: Int
    public var completedBy: Int
    public var result: [LabelStudioResult<Value>]
    public var wasCancelled: Bool
    public var groundTruth: Bool

    public init(id: Int, completedBy: Int, result: [LabelStudioResult<Value>], wasCancelled: Bool = false, groundTruth: Bool = false) {
        self.id = id; self.completedBy = completedBy; self.result = result; self.wasCancelled = wasCancelled; self.groundTruth = groundTruth
    }

    enum CodingKeys: String, CodingKey {
        case id, result
        case completedBy = "completed_by"
        case wasCancelled = "was_cancelled"
        case groundTruth = "ground_truth"
    }
}

/// A task of a Label Studio JSON export: the task's data and its annotations.
public struct LabelStudioTask<Data: Codable & Equatable & Sendable, Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var id: Int
    public var data: Data
    public var annotations: [LabelStudioAnnotation<Value>]
    public var predictions: [String]
    /// Task metadata (Label Studio keeps it beside `data`): the generator's record id.
    public var meta: TaskMeta

    public init(id: Int, data: Data, annotations: [LabelStudioAnnotation<Value>], predictions: [String] = [], meta: TaskMeta) {
        self.id = id; self.data = data; self.annotations = annotations; self.predictions = predictions; self.meta = meta
    }
}

public struct TaskMeta: Codable, Equatable, Sendable {
    public var recordId: String

    public init(recordId: String) { self.recordId = recordId }

    enum CodingKeys: String, CodingKey { case recordId = "record_id" }
}

/// A response shown in a Ranker's list (Label Studio's List tag items: id and body; no title, since
/// importers join title and body into the item's text).
public struct RankItem: Codable, Equatable, Sendable {
    public var id: String
    public var body: String
}

public struct RankingData: Codable, Equatable, Sendable {
    public var prompt: String
    public var items: [RankItem]
    public var tags: [String]
}

/// The prompt and the one model response to correct (the only text fields, so importers can find
/// the response without the labelling config).
public struct EditData: Codable, Equatable, Sendable {
    public var prompt: String
    public var response: String
    public var tags: [String]
}

public typealias RankingTask = LabelStudioTask<RankingData, RankerValue>
public typealias EditTask = LabelStudioTask<EditData, TextAreaValue>

/// Labelling configs written beside the exports (Label Studio's Ranker and TextArea tags).
public enum LabelStudioConfig {
    public static let ranking = """
    <View>
      <Text name="prompt" value="$prompt"/>
      <List name="responses" value="$items" title="Responses"/>
      <Ranker name="rank" toName="responses"/>
    </View>

    """
    public static let edit = """
    <View>
      <Text name="prompt" value="$prompt"/>
      <Text name="response" value="$response"/>
      <TextArea name="corrected" toName="response" value="$response" editable="true" maxSubmissions="1"/>
    </View>

    """
}
