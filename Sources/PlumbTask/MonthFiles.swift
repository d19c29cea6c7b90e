// Writes a month's prompt sets (`plumb task month`) in the generator's formats, a copy of the source
// task's `task.json` (byte for byte: the annotators' settings, so the month directory serves as
// `--task` for `plumb task annotate`) and `month.json`, the month's manifest. Before anything is
// written, the held-out check (`HeldOutCheck`) must pass: no month prompt uses a held-out wording or
// entity, and none equals an evaluation prompt of the source task.

import Foundation

public enum MonthFiles {
    public static let rejectionSamplingPrompts = TaskFiles.rejectionSamplingPrompts
    public static let ppoPrompts = TaskFiles.ppoPrompts
    /// Prompts whose policy samples the simulated annotators compare (on-policy preference data).
    public static let annotatePrompts = "prompts-annotate.jsonl"
    public static let validationPrompts = TaskFiles.validationPrompts
    public static let manifest = "month.json"

    /// The generated task a month is drawn for: its `task.json` bytes, their SHA-256, the seed it was
    /// generated with, its evaluation prompts.
    public struct Source: Sendable {
        public var taskJSON: Data
        public var sha256: String
        public var seed: UInt64
        public var evalPrompts: [String]

        public init(taskJSON: Data, sha256: String, seed: UInt64, evalPrompts: [String]) {
            self.taskJSON = taskJSON
            self.sha256 = sha256
            self.seed = seed
            self.evalPrompts = evalPrompts
        }
    }

    /// Checks the prompts against the held-out split, then writes the month into `directory`
    /// (created if missing); returns the manifest written.
    @discardableResult
    public static func write(_ month: TaskMonth, _ prompts: MonthPrompts, source: Source, to directory: URL) throws -> MonthManifest {
        let training = (prompts.rejectionSampling + prompts.ppo + prompts.annotate).compactMap(\.prompt)
        let validation = prompts.validation.compactMap(\.prompt)
        let inEval = HeldOutCheck.evalInTraining(eval: source.evalPrompts, training: Set(training + validation))
        let heldOut = HeldOutCheck.trainingHeldOut(training) + HeldOutCheck.validationHeldOut(validation)
        guard inEval == 0, heldOut == 0 else {
            throw TaskError.heldOut("month \(month): \(inEval) evaluation prompts among the month's prompts, \(heldOut) month prompts held out")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TaskError.cannotWrite("cannot create \(directory.path): \(error.localizedDescription)")
        }
        let jsonl = JSONEncoder()
        jsonl.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try TaskFiles.save(TaskFiles.lines(prompts.rejectionSampling, jsonl), rejectionSamplingPrompts, directory)
        try TaskFiles.save(TaskFiles.lines(prompts.ppo, jsonl), ppoPrompts, directory)
        try TaskFiles.save(TaskFiles.lines(prompts.annotate, jsonl), annotatePrompts, directory)
        try TaskFiles.save(TaskFiles.lines(prompts.validation, jsonl), validationPrompts, directory)
        try TaskFiles.save(String(decoding: source.taskJSON, as: UTF8.self), TaskFiles.manifest, directory)
        let manifest = MonthManifest(month: month.month, seed: month.seed, idPrefix: month.idPrefix,
                                     records: [rejectionSamplingPrompts: prompts.rejectionSampling.count, ppoPrompts: prompts.ppo.count,
                                               annotatePrompts: prompts.annotate.count, validationPrompts: prompts.validation.count],
                                     sourceTask: .init(sha256: source.sha256, seed: source.seed),
                                     evalPromptsChecked: source.evalPrompts.count)
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        try TaskFiles.save(String(decoding: try pretty.encode(manifest), as: UTF8.self) + "\n", MonthFiles.manifest, directory)
        return manifest
    }
}

/// `month.json`: which month, from which seed, how many prompts per file, and which task (the SHA-256
/// of its `task.json`, copied beside this file).
public struct MonthManifest: Codable, Equatable, Sendable {
    public var format = "plumbline-task-month"
    public var formatVersion = 1
    public var month: Int
    public var seed: UInt64
    /// The prefix of every record id of the month ("m2").
    public var idPrefix: String
    /// Records per file.
    public var records: [String: Int]
    public var sourceTask: SourceTask
    /// Evaluation prompts of the source task that no month prompt equals (all of them: the write checks).
    public var evalPromptsChecked: Int

    public struct SourceTask: Codable, Equatable, Sendable {
        public var file = TaskFiles.manifest
        public var sha256: String
        /// The seed the task was generated with (the month's own seed is `seed`, by default the same).
        public var seed: UInt64
    }
}
