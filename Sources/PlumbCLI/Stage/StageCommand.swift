// `plumb stage KIND --KEY VALUE ... --out RUNS/RUN/STAGE`: any registered stage kind run by hand,
// its flags derived from the stage itself: each parameter key (`--max-new-tokens 48`) and each input
// slot (`--tokenizer FILE`, repeated for several); a list key repeats its flag, another key's later
// flag replaces an earlier one; a key given alone (`--quick`) means true; a key
// that names both a parameter and an input (`--init-from tiny`, `--init-from DIR`) is the parameter
// for a value the parameter takes, else the input. It builds the same `StageInvocation` a pipeline
// file's stage becomes and runs it through the same code; `plumb sft ...` (StageKindCommand) is this
// command with the kind fixed. `plumb stage KIND --help-keys` lists the keys and slots.
import ArgumentParser
import Foundation
import PlumbEval
import PlumbStages

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "Run any stage kind by hand: plumb stage KIND --KEY VALUE ... --out RUNS/RUN/STAGE (KIND as in pipeline files).")

    @Argument(parsing: .captureForPassthrough, help: "The kind's words, then its flags.")
    var words: [String] = []

    func run() throws {
        let (kind, flags) = Self.split(words)
        guard let stage = StageRegistry.standard.stage(StageKind(kind)) else {
            throw CLIError("no stage kind \"\(kind)\" (kinds: \(StageRegistry.standard.kinds.map(\.name).sorted().joined(separator: ", ")))")
        }
        try Self.execute(stage, flags: flags)
    }

    /// Parses the flags into a `StageInvocation`, checks it, starts MPI when it asks for a
    /// distributed run, runs it and prints its metrics.
    static func execute(_ stage: any Stage.Type, flags: [String]) throws {
        let kind = stage.kind.name
        if flags.contains(where: { ["--help-keys", "--help", "-h"].contains($0) }) {
            return print("usage: plumb \(kind) --KEY VALUE ... --out RUNS/RUN/STAGE\n" + (try describe(stage)))
        }
        let (entries, inputs, out) = try parse(flags, stage: stage)
        guard let out else { throw CLIError("\(kind): give --out RUNS/RUN/STAGE") }
        let invocation = StageInvocation(stage: stage, parameters: entries, inputs: inputs)
        do { try invocation.check() } catch let error as StageParameterError { throw CLIError("--\(error.key): \(error.message)") }
        if let mode = try invocation.distributedMode() { try DistributedRuntime.start(mode) }
        let summary = try invocation.run(location: DistributedRuntime.rankLocation(StageLocation(directory: fileURL(out))),
                                         environment: PolicyOracle.environment, progress: ProgressPrinter(label: kind).handle,
                                         log: StageRun.standardError)
        let metrics = summary.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4g", $0.value))" }
        print("\(kind): \(metrics.joined(separator: ", ")) -> \(out)")
    }

    /// The kind's words (up to the first flag) and the flags.
    static func split(_ words: [String]) -> (String, [String]) {
        let index = words.firstIndex { $0.hasPrefix("--") } ?? words.count
        return (words[..<index].joined(separator: " "), Array(words[index...]))
    }

    /// Flags as parameter entries and inputs by slot; `--out` apart. A word without a flag is a
    /// path of the kind's positional slot (`plumb import FILE ...`); a flag key (a true/false
    /// parameter) takes the next word only when it is `true` or `false`.
    static func parse(_ flags: [String], stage: any Stage.Type) throws -> ([ParameterEntry], StageInputs, String?) {
        let slots = Set(stage.slots.map(\.name)), keys = Set(try stage.acceptedKeys()), lists = Set(try stage.listKeys())
        let switches = Set(try stage.flagKeys()), positional = stage.slots.first(where: \.positional)?.name
        var values: [(key: String, values: [String])] = [], paths: [String: [URL]] = [:], out: String?
        var i = 0
        while i < flags.count {
            guard flags[i].hasPrefix("--") else {
                guard let positional else { throw CLIError("\(flags[i]): expected --KEY") }
                paths[positional, default: []].append(fileURL(flags[i]))
                i += 1
                continue
            }
            let key = String(flags[i].dropFirst(2))
            let next = i + 1 < flags.count && !flags[i + 1].hasPrefix("--") ? flags[i + 1] : nil
            let hasValue = next != nil && (!switches.contains(key) || ["true", "false"].contains(next!))
            let value = hasValue ? next! : "true"
            i += hasValue ? 2 : 1
            let isInput = slots.contains(key) && !(keys.contains(key) && stage.takesValue(value, forKey: key))
            if key == "out" { out = value } else if isInput { paths[key, default: []].append(fileURL(value)) } else if let j = values.firstIndex(where: { $0.key == key }) {
                // A list repeats its flag; any other key's later flag replaces the earlier one.
                values[j].values = lists.contains(key) ? values[j].values + [value] : [value]
            } else {
                values.append((key, [value]))
            }
        }
        return (values.map { ParameterEntry(key: $0.key, values: $0.values, place: "--\($0.key)") }, StageInputs(paths), out)
    }

    static func describe(_ stage: any Stage.Type) throws -> String {
        var lines = ["\(stage.kind): \(stage.abstract)", "inputs:"]
        lines += stage.slots.map { "  \($0.positional ? "[--\($0.name)] FILE" : "--\($0.name)")  \($0.help)" }
        lines += ["options (default):"] + (try stage.keyDefaults()).map { "  --\($0.key)" + ($0.value.map { "  \($0)" } ?? "") }
        return lines.joined(separator: "\n")
    }
}
