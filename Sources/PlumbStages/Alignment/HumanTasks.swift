// Humans in the loop (TigerBot; ../shared/docs/METHODS.md section 5): a seeded share of the
// rejection-sampling prompts goes to human ranking and another to human editing; the rest keep the
// reward models' choice. The rs stage writes the routed prompts as Label Studio task-import files
// (`human-rank-tasks.json`, `human-edit-tasks.json`) with their labelling configs beside them;
// `HumanFeedbackStage` folds the completed exports back in.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

/// Who decides a prompt's best response.
public enum HumanRoute: String, Codable, CaseIterable, Sendable {
    case rewardModel = "reward_model"
    case humanRank = "human_rank"
    case humanEdit = "human_edit"

    /// The route of prompt `promptID`: a uniform draw u from (seed, prompt id) alone, so the route does
    /// not depend on the prompt's position, the chunking or the other prompts; u < rankShare ranks,
    /// u < rankShare + editShare edits, the rest stay with the reward models.
    public static func of(promptID: String, seed: UInt64, rankShare: Double, editShare: Double) -> HumanRoute {
        var rng = SeededRNG(seed: seed ^ FNV1a64.hash("human-route\u{0}" + promptID))
        let u = Double(rng.next() >> 11) * 0x1.0p-53
        if u < rankShare { return .humanRank }
        return u < rankShare + editShare ? .humanEdit : .rewardModel
    }
}

/// One task of a Label Studio task-import file (`[{data: {...}}]`). `data.prompt_id` names the
/// rejection-sampling prompt; it survives Label Studio's round trip, which renumbers task ids.
public struct HumanTask<Payload: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var data: Payload
    public init(data: Payload) { self.data = data }
}

/// A ranking task: the prompt and its distinct finished samples (item ids `s<sample index>`).
public struct HumanRankData: Codable, Equatable, Sendable {
    public struct Item: Codable, Equatable, Sendable {
        public var id: String
        public var body: String
    }
    public var promptID: String
    public var prompt: String
    public var items: [Item]
    public var tags: [String]

    enum CodingKeys: String, CodingKey { case promptID = "prompt_id", prompt, items, tags }
}

/// An edit task: the prompt and the reward models' best response, prefilled in the text area.
public struct HumanEditData: Codable, Equatable, Sendable {
    public var promptID: String
    public var prompt: String
    public var response: String
    public var tags: [String]

    enum CodingKeys: String, CodingKey { case promptID = "prompt_id", prompt, response, tags }
}

public enum HumanTasks {
    public static let rankFile = "human-rank-tasks.json"
    public static let rankConfigFile = "human-rank-config.xml"
    public static let editFile = "human-edit-tasks.json"
    public static let editConfigFile = "human-edit-config.xml"

    /// Label Studio's Ranker over the samples (results `{from_name: rank, value: {ranker: [ids best first]}}`).
    public static let rankConfig = """
    <View>
      <Header value="Order the responses from best to worst"/>
      <Text name="prompt" value="$prompt"/>
      <List name="samples" value="$items" title="Responses"/>
      <Ranker name="rank" toName="samples"/>
    </View>

    """
    /// A TextArea prefilled with the best response (results `{from_name: corrected, value: {text: [...]}}`).
    public static let editConfig = """
    <View>
      <Header value="Correct the response into the one you would want"/>
      <Text name="prompt" value="$prompt"/>
      <Text name="response" value="$response"/>
      <TextArea name="corrected" toName="response" value="$response" editable="true" maxSubmissions="1"/>
    </View>

    """

    /// The text a human sees as the prompt: its user turns.
    static func promptText(_ prompt: Prompt) -> String {
        prompt.messages.filter { $0.role == .user }.map(\.content).joined(separator: "\n\n")
    }

    /// An empty response is not offered for ranking (Label Studio shows a list item without text by its id).
    static func isBlank(_ text: String) -> Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

    /// What the rs stage sent out (`counts`): prompts per route, and tasks per file.
    public struct Counts: Equatable, Sendable {
        public var routes: [HumanRoute: Int] = [:]
        public var rankTasks = 0
        public var editTasks = 0
    }

    /// Writes the two task files and their configs into the rs stage's directory: a ranking task for
    /// each rank-routed prompt with at least two distinct finished non-empty samples, an edit task for each
    /// edit-routed prompt that has a best. Reads the stage's own `samples` and `demonstrations-train`
    /// shards, keeping only the routed prompts' records.
    static func write(stage directory: URL, outputs: [StageOutput], prompts: [PromptRecord],
                      parameters: RejectionSamplingStage.Parameters) throws -> Counts {
        var counts = Counts()
        var routes: [String: HumanRoute] = [:]
        for p in prompts {
            let route = HumanRoute.of(promptID: p.prompt.id, seed: parameters.seed, rankShare: parameters.humanRankShare,
                                      editShare: parameters.humanEditShare)
            routes[p.prompt.id] = route
            counts.routes[route, default: 0] += 1
        }
        func files(_ name: String) -> [URL] {
            (outputs.first { $0.name == name }?.files ?? []).map { directory.appendingPathComponent($0.file) }
        }
        var samples: [String: [RejectionSample]] = [:]
        let sampleReader = ShardReader(files: files("samples"))
        while let s = try sampleReader.next(RejectionSample.self) {
            if routes[s.promptID] == .humanRank { samples[s.promptID, default: []].append(s) }
        }
        var best: [String: Demonstration] = [:]
        let bestReader = ShardReader(files: files("demonstrations-train"))
        while let d = try bestReader.next(Demonstration.self) {
            if routes[d.prompt.id] == .humanEdit { best[d.prompt.id] = d }
        }
        var rank: [HumanTask<HumanRankData>] = [], edit: [HumanTask<HumanEditData>] = []
        for p in prompts {
            let id = p.prompt.id
            switch routes[id]! {
            case .humanRank:
                var seen = Set<String>()
                let items = (samples[id] ?? []).filter { $0.finished && !isBlank($0.text) && seen.insert($0.text).inserted }
                    .map { HumanRankData.Item(id: "s\($0.sample)", body: $0.text) }
                guard items.count >= 2 else { continue }
                rank.append(HumanTask(data: HumanRankData(promptID: id, prompt: promptText(p.prompt), items: items, tags: p.prompt.tags)))
            case .humanEdit:
                guard let d = best[id] else { continue }
                edit.append(HumanTask(data: HumanEditData(promptID: id, prompt: promptText(p.prompt), response: d.response, tags: p.prompt.tags)))
            case .rewardModel:
                continue
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(rank), to: directory.appendingPathComponent(rankFile))
        try AtomicFile.write(try encoder.encode(edit), to: directory.appendingPathComponent(editFile))
        try AtomicFile.write(Data(rankConfig.utf8), to: directory.appendingPathComponent(rankConfigFile))
        try AtomicFile.write(Data(editConfig.utf8), to: directory.appendingPathComponent(editConfigFile))
        counts.rankTasks = rank.count
        counts.editTasks = edit.count
        return counts
    }

    /// Reads a task file written by `write` (or any Label Studio task-import list of the same shape).
    public static func read<D: Codable & Equatable & Sendable>(_ type: D.Type, from file: URL) throws -> [HumanTask<D>] {
        do { return try JSONDecoder().decode([HumanTask<D>].self, from: Data(contentsOf: file)) } catch {
            throw StageError("\(file.path): not a human task file of this kind: \(error)")
        }
    }
}
