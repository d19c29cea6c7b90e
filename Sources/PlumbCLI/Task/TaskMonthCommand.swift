// `plumb task month`: a month's new prompt sets for iterative runs (TaskMonth, MonthFiles), drawn
// for an existing generated task: same world, same settings (its task.json), ids prefixed `mN-`,
// checked against the task's evaluation prompts before anything is written.

import ArgumentParser
import Foundation
import PlumbStore
import PlumbTask

struct TaskMonthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "month",
        abstract: "Write month N's prompt sets (prompts-rs, prompts-ppo, prompts-annotate) for a generated task, with month.json and a copy of its task.json.")

    @Option(help: "A directory written by `plumb task generate` (its task.json and eval-prompts.jsonl are read).") var task: String
    @Option(help: "The month (2 or more; month 1 is the generated task).") var month: Int
    @Option(help: "Output directory (created if missing).") var out: String
    @Option(help: "Seed (default: the task's seed); the same task, month, seed and counts give the same bytes.") var seed: UInt64?
    @Option(help: "Prompts in prompts-rs.jsonl (default: the task's sizes.rejectionSamplingPrompts).") var rsPrompts: Int?
    @Option(help: "Prompts in prompts-ppo.jsonl (default: the task's sizes.ppoPrompts).") var ppoPrompts: Int?
    @Option(help: "Prompts in prompts-annotate.jsonl (default: the task's sizes.annotatedPrompts).") var annotatePrompts: Int?

    func validate() throws {
        guard month >= 2 else { throw ValidationError("--month must be 2 or more (month 1 is the generated task itself)") }
        for (value, name) in [(rsPrompts, "--rs-prompts"), (ppoPrompts, "--ppo-prompts"), (annotatePrompts, "--annotate-prompts")] {
            if let value, value < 0 { throw ValidationError("\(name) must not be negative") }
        }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: task)
        let manifestFile = directory.appendingPathComponent(TaskFiles.manifest)
        let taskJSON: Data, manifest: TaskManifest
        do {
            taskJSON = try Data(contentsOf: manifestFile)
            manifest = try JSONDecoder().decode(TaskManifest.self, from: taskJSON)
        } catch {
            throw CLIError("\(manifestFile.path): cannot read the task's manifest: \(error)")
        }
        let evalFile = directory.appendingPathComponent(TaskFiles.evalPrompts)
        let evalPrompts = try Self.prompts(in: evalFile)
        var counts = TaskMonth.Counts(manifest.settings.sizes)
        counts.rejectionSamplingPrompts = rsPrompts ?? counts.rejectionSamplingPrompts
        counts.ppoPrompts = ppoPrompts ?? counts.ppoPrompts
        counts.annotatePrompts = annotatePrompts ?? counts.annotatePrompts
        let generator = TaskMonth(settings: manifest.settings, seed: seed ?? manifest.seed, month: month, counts: counts)
        let source = MonthFiles.Source(taskJSON: taskJSON, sha256: SHA256.hex(of: taskJSON), seed: manifest.seed, evalPrompts: evalPrompts)
        let written = try MonthFiles.write(generator, generator.generate(), source: source, to: URL(fileURLWithPath: out))
        for (name, count) in written.records.sorted(by: { $0.key < $1.key }) { print("\(name): \(count) records") }
        print("task month \(month) (seed \(written.seed), ids \(written.idPrefix)-*): no prompt held out or equal to any of "
              + "\(written.evalPromptsChecked) eval prompts -> \(out)")
    }

    /// The user turns of a message-list JSONL file, with the file and line named on error.
    static func prompts(in file: URL) throws -> [String] {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw CLIError("\(file.path): cannot read the task's evaluation prompts: \(error.localizedDescription)")
        }
        return try text.split(separator: "\n").enumerated().map { i, line in
            guard let prompt = (try? JSONDecoder().decode(MessageRecord.self, from: Data(line.utf8)))?.prompt else {
                throw CLIError("\(file.path) line \(i + 1): not a message record with a user turn")
            }
            return prompt
        }
    }
}
