// Writes a generated task to a directory in the formats `plumb import` reads, and `task.json`
// describing the settings, rates and counts. Keys are sorted so the same seed gives the same bytes.

import Foundation

public enum TaskFiles {
    public static let corpus = "corpus.txt"
    public static let sft = "sft.jsonl"
    public static let comparisons = "comparisons.jsonl"
    public static let rankings = "rankings.json"
    public static let rankingsConfig = "rankings-config.xml"
    public static let edits = "edits.json"
    public static let editsConfig = "edits-config.xml"
    public static let rejectionSamplingPrompts = "prompts-rs.jsonl"
    public static let ppoPrompts = "prompts-ppo.jsonl"
    /// Training-distribution prompts no stage trains on: choosing among policies (`select`) and RL's
    /// early stopping read the annotators' judgements of answers to them.
    public static let validationPrompts = "prompts-validate.jsonl"
    /// A thumbs log (unpaired feedback) from the annotators.
    public static let thumbs = "thumbs.jsonl"
    public static let evalPrompts = "eval-prompts.jsonl"
    public static let rewardEval = "rm-eval.jsonl"
    public static let labelledResponses = "labelled-responses.jsonl"
    public static let safetyLexicon = "safety-lexicon.txt"
    public static let manifest = "task.json"

    /// Every training file (the corpus included): no evaluation prompt may appear in any of them.
    public static let trainingFiles = [corpus, sft, comparisons, rankings, edits, rejectionSamplingPrompts, ppoPrompts, validationPrompts, thumbs]

    /// Writes `data` into `directory` (created if missing) and returns the manifest written.
    @discardableResult
    public static func write(_ data: TaskDataset, settings: TaskSettings, seed: UInt64, to directory: URL) throws -> TaskManifest {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TaskError.cannotWrite("cannot create \(directory.path): \(error.localizedDescription)")
        }
        let jsonl = JSONEncoder()
        jsonl.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]

        try save(data.corpus.joined(separator: "\n") + "\n", corpus, directory)
        try save(lines(data.sft, jsonl), sft, directory)
        try save(lines(data.comparisons, jsonl), comparisons, directory)
        try save(String(decoding: try pretty.encode(data.rankings), as: UTF8.self) + "\n", rankings, directory)
        try save(LabelStudioConfig.ranking, rankingsConfig, directory)
        try save(String(decoding: try pretty.encode(data.edits), as: UTF8.self) + "\n", edits, directory)
        try save(LabelStudioConfig.edit, editsConfig, directory)
        try save(lines(data.rejectionSamplingPrompts, jsonl), rejectionSamplingPrompts, directory)
        try save(lines(data.ppoPrompts, jsonl), ppoPrompts, directory)
        try save(lines(data.validationPrompts, jsonl), validationPrompts, directory)
        try save(lines(data.thumbs, jsonl), thumbs, directory)
        try save(lines(data.evalPrompts, jsonl), evalPrompts, directory)
        try save(lines(data.rewardEval, jsonl), rewardEval, directory)
        try save(lines(data.labelledResponses, jsonl), labelledResponses, directory)
        try save(SafetyCatalog.lexiconFile, safetyLexicon, directory)
        let manifest = TaskManifest(data, settings: settings, seed: seed)
        try save(String(decoding: try pretty.encode(manifest), as: UTF8.self) + "\n", TaskFiles.manifest, directory)
        return manifest
    }

    static func lines<T: Encodable>(_ records: [T], _ encoder: JSONEncoder) throws -> String {
        var out = ""
        for record in records {
            out += String(decoding: try encoder.encode(record), as: UTF8.self)
            out += "\n"
        }
        return out
    }

    static func save(_ text: String, _ name: String, _ directory: URL) throws {
        let url = directory.appendingPathComponent(name)
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw TaskError.cannotWrite("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}

/// `task.json`: what was generated, from which seed and settings, and what the generator planted.
public struct TaskManifest: Codable, Equatable, Sendable {
    public var format = "plumbline-task"
    public var formatVersion: Int
    public var seed: UInt64
    public var settings: TaskSettings
    /// Records per file (corpus: passages; Label Studio exports: tasks).
    public var records: [String: Int]
    /// Prompts per kind in the evaluation set.
    public var evalPromptsPerKind: [String: Int]
    public var statistics: TaskStatistics
    /// What evaluation prompts hold out: wordings and entities.
    public var heldOut: HeldOut
    /// The entities only validation prompts name (no wordings: validation prompts use training ones).
    public var validation: HeldOut?

    public struct HeldOut: Codable, Equatable, Sendable {
        public var templates: [String]
        public var towns: [String]
        public var nouns: [String]
        public var harmfulActions: [String]
        public var benignActions: [String]
    }

    init(_ data: TaskDataset, settings: TaskSettings, seed: UInt64) {
        formatVersion = settings.formatVersion
        self.seed = seed
        self.settings = settings
        records = [
            TaskFiles.corpus: data.corpus.count, TaskFiles.sft: data.sft.count, TaskFiles.comparisons: data.comparisons.count,
            TaskFiles.rankings: data.rankings.count, TaskFiles.edits: data.edits.count,
            TaskFiles.rejectionSamplingPrompts: data.rejectionSamplingPrompts.count, TaskFiles.ppoPrompts: data.ppoPrompts.count,
            TaskFiles.validationPrompts: data.validationPrompts.count, TaskFiles.thumbs: data.thumbs.count,
            TaskFiles.evalPrompts: data.evalPrompts.count, TaskFiles.rewardEval: data.rewardEval.count,
            TaskFiles.labelledResponses: data.labelledResponses.count,
        ]
        var perKind: [String: Int] = [:]
        for record in data.evalPrompts {
            if let kind = record.prompt.flatMap(TaskPrompts.parse)?.kind { perKind[kind.rawValue, default: 0] += 1 }
        }
        evalPromptsPerKind = perKind
        statistics = data.statistics
        let world = World.standard
        heldOut = HeldOut(
            templates: TaskKind.allCases.flatMap(\.heldOutTemplates).map(\.pattern).uniqued(),
            towns: world.heldOutTowns.map(\.name), nouns: Array(world.heldOutNouns).sorted(),
            harmfulActions: SafetyCatalog.harmful.filter(\.heldOut).map(\.phrase),
            benignActions: SafetyCatalog.benign.filter(\.heldOut).map(\.phrase))
        validation = HeldOut(
            templates: [], towns: world.towns(.validation).map(\.name), nouns: world.nouns(.validation),
            harmfulActions: SafetyCatalog.harmful.filter { $0.split == .validation }.map(\.phrase),
            benignActions: SafetyCatalog.benign.filter { $0.split == .validation }.map(\.phrase))
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
