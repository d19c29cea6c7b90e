// `plumb task generate` and `plumb task month` as stages: the built-in task's files (corpus, SFT
// data, annotations, prompt sets, evaluation sets) and a month's new prompt sets, written into the
// stage directory and listed in its manifest.
import Foundation
import PlumbData
import PlumbStages
import PlumbStore
import PlumbTask

extension StageKind {
    public static let taskGenerate: StageKind = "task generate"
    public static let taskMonth: StageKind = "task month"
}

/// Named generator settings.
public enum TaskPreset: String, CaseIterable, Codable, Sendable {
    case standard, quick

    public var settings: TaskSettings {
        switch self {
        case .standard: return .standard
        case .quick: return .quick
        }
    }
}

public enum TaskGenerateStage: Stage {
    public static let kind = StageKind.taskGenerate
    public static let abstract = "Write the task's corpus, SFT data, annotations, prompt sets and eval sets."
    public static let slots = [InputSlot("settings", .optional, "A settings JSON file (see data/task-standard.json); overrides the preset.")]

    public struct Parameters: StageParameters, Equatable {
        /// The same seed and settings give the same bytes.
        public var seed: UInt64 = 1
        public var preset: TaskPreset = .standard
        /// Small sizes with the same rates, for CI (overrides `preset`).
        public var quick = false
        public init() {}
        public var manifestSeed: UInt64? { seed }
    }

    public struct Summary: StageSummary {
        public var records: [String: Int]
        public var metrics: [String: Double] { records.reduce(into: [:]) { $0["records.\($1.key)"] = Double($1.value) } }
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<TaskSettings> {
        guard let file = inputs.optional("settings") else {
            let settings = parameters.quick ? TaskPreset.quick.settings : parameters.preset.settings
            try settings.validate()
            return Prepared(settings, files: [])
        }
        return Prepared(try TaskSettings.load(from: file), files: [file])
    }

    public static func execute(_ settings: TaskSettings, parameters: Parameters, stage: StageContext) throws -> Summary {
        let data = TaskGenerator(settings: settings, seed: parameters.seed).generate()
        let manifest = try TaskFiles.write(data, settings: settings, seed: parameters.seed, to: stage.directory)
        try stage.recordWrittenFiles()
        return Summary(records: manifest.records)
    }
}

public enum TaskMonthStage: Stage {
    public static let kind = StageKind.taskMonth
    public static let abstract = "Write month N's prompt sets (prompts-rs, prompts-ppo, prompts-annotate, prompts-validate) for a generated task, with month.json and a copy of its task.json."
    public static let slots = [InputSlot("task", .one, "A task generate stage (its task.json and eval-prompts.jsonl are read).")]

    public struct Parameters: StageParameters, Equatable {
        /// 2 or more (month 1 is the generated task).
        public var month = 2
        /// nil: the task's seed.
        public var seed: UInt64?
        /// Prompt counts; nil: the task's sizes.
        public var rsPrompts: Int?
        public var ppoPrompts: Int?
        public var annotatePrompts: Int?
        public var validationPrompts: Int?
        public init() {}
        public var manifestSeed: UInt64? { seed }
        public func validate() throws {
            guard month >= 2 else { throw StageParameterError("month", "must be 2 or more (month 1 is the generated task itself)") }
            for (value, key) in [(rsPrompts, "rs-prompts"), (ppoPrompts, "ppo-prompts"), (annotatePrompts, "annotate-prompts"),
                               (validationPrompts, "validation-prompts")] {
                if let value, value < 0 { throw StageParameterError(key, "must not be negative") }
            }
        }
    }

    public struct Summary: StageSummary {
        public var records: [String: Int]
        public var seed: UInt64
        public var idPrefix: String
        public var evalPromptsChecked: Int
        public var metrics: [String: Double] {
            records.reduce(into: ["eval_prompts_checked": Double(evalPromptsChecked)]) { $0["records.\($1.key)"] = Double($1.value) }
        }
    }

    public struct Loaded {
        var taskJSON: Data, manifest: TaskManifest, evalPrompts: [String]
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let directory = try inputs.one("task")
        let manifestFile = directory.appendingPathComponent(TaskFiles.manifest)
        let taskJSON: Data, manifest: TaskManifest
        do {
            taskJSON = try Data(contentsOf: manifestFile)
            manifest = try JSONDecoder().decode(TaskManifest.self, from: taskJSON)
        } catch {
            throw StageError("\(manifestFile.path): cannot read the task's manifest: \(error)")
        }
        let evalFile = directory.appendingPathComponent(TaskFiles.evalPrompts)
        return Prepared(Loaded(taskJSON: taskJSON, manifest: manifest, evalPrompts: try prompts(in: evalFile)), files: [manifestFile, evalFile])
    }

    public static func execute(_ loaded: Loaded, parameters p: Parameters, stage: StageContext) throws -> Summary {
        var counts = TaskMonth.Counts(loaded.manifest.settings.sizes)
        counts.rejectionSamplingPrompts = p.rsPrompts ?? counts.rejectionSamplingPrompts
        counts.ppoPrompts = p.ppoPrompts ?? counts.ppoPrompts
        counts.annotatePrompts = p.annotatePrompts ?? counts.annotatePrompts
        counts.validationPrompts = p.validationPrompts ?? counts.validationPrompts
        let generator = TaskMonth(settings: loaded.manifest.settings, seed: p.seed ?? loaded.manifest.seed, month: p.month, counts: counts)
        let source = MonthFiles.Source(taskJSON: loaded.taskJSON, sha256: SHA256.hex(of: loaded.taskJSON), seed: loaded.manifest.seed,
                                       evalPrompts: loaded.evalPrompts)
        let written = try MonthFiles.write(generator, generator.generate(), source: source, to: stage.directory)
        try stage.recordWrittenFiles()
        return Summary(records: written.records, seed: written.seed, idPrefix: written.idPrefix, evalPromptsChecked: written.evalPromptsChecked)
    }

    /// The user turns of a message-list JSONL file, with the file and line named on error.
    static func prompts(in file: URL) throws -> [String] {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw StageError("\(file.path): cannot read the task's evaluation prompts: \(error.localizedDescription)")
        }
        return try text.split(separator: "\n").enumerated().map { i, line in
            guard let prompt = (try? JSONDecoder().decode(MessageRecord.self, from: Data(line.utf8)))?.prompt else {
                throw StageError("\(file.path) line \(i + 1): not a message record with a user turn")
            }
            return prompt
        }
    }
}
