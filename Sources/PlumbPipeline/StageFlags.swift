// A stage's flags on the command line (`plumb stage KIND --KEY VALUE ... --out RUNS/RUN/STAGE`, `plumb
// sft ...`): each parameter key (`--max-new-tokens 48`) and each input slot (`--tokenizer FILE`,
// repeated for several); a list key repeats its flag, another key's later flag replaces an earlier
// one; a key given alone (`--quick`) means true; a key that names both a parameter and an input
// (`--init-from tiny`, `--init-from DIR`) is the parameter for a value the parameter takes, else the
// input. The entries and inputs make the same `StageInvocation` a pipeline file's stage becomes.
import Foundation
import PlumbStages

public enum StageFlags {
    /// The kind's words (up to the first flag) and the flags.
    public static func split(_ words: [String]) -> (String, [String]) {
        let index = words.firstIndex { $0.hasPrefix("--") } ?? words.count
        return (words[..<index].joined(separator: " "), Array(words[index...]))
    }

    /// Flags as parameter entries and inputs by slot; `--out` apart. A word without a flag is a
    /// path of the kind's positional slot (`plumb import FILE ...`); a flag key (a true/false
    /// parameter) takes the next word only when it is `true` or `false`.
    public static func parse(_ flags: [String], stage: any Stage.Type) throws -> ([ParameterEntry], StageInputs, String?) {
        let slots = Set(stage.slots.map(\.name)), keys = Set(try stage.acceptedKeys()), lists = Set(try stage.listKeys())
        let switches = Set(try stage.flagKeys()), positional = stage.slots.first(where: \.positional)?.name
        var values: [(key: String, values: [String])] = [], paths: [String: [URL]] = [:], out: String?
        var i = 0
        while i < flags.count {
            guard flags[i].hasPrefix("--") else {
                guard let positional else { throw PipelineError("\(flags[i]): expected --KEY") }
                paths[positional, default: []].append(path(flags[i]))
                i += 1
                continue
            }
            let key = String(flags[i].dropFirst(2))
            let next = i + 1 < flags.count && !flags[i + 1].hasPrefix("--") ? flags[i + 1] : nil
            let hasValue = next != nil && (!switches.contains(key) || ["true", "false"].contains(next!))
            let value = hasValue ? next! : "true"
            i += hasValue ? 2 : 1
            let isInput = slots.contains(key) && !(keys.contains(key) && stage.takesValue(value, forKey: key))
            if key == "out" { out = value } else if isInput { paths[key, default: []].append(path(value)) } else if let j = values.firstIndex(where: { $0.key == key }) {
                // A list repeats its flag; any other key's later flag replaces the earlier one.
                values[j].values = lists.contains(key) ? values[j].values + [value] : [value]
            } else {
                values.append((key, [value]))
            }
        }
        return (values.map { ParameterEntry(key: $0.key, values: $0.values, place: "--\($0.key)") }, StageInputs(paths), out)
    }

    public static func describe(_ stage: any Stage.Type) throws -> String {
        var lines = ["\(stage.kind): \(stage.abstract)", "inputs:"]
        lines += stage.slots.map { "  \($0.positional ? "[--\($0.name)] FILE" : "--\($0.name)")  \($0.help)" }
        lines += ["options (default):"] + (try stage.keyDefaults()).map { "  --\($0.key)" + ($0.value.map { "  \($0)" } ?? "") }
        return lines.joined(separator: "\n")
    }

    /// A path as given, made absolute and standardised.
    static func path(_ text: String) -> URL { URL(fileURLWithPath: text).standardizedFileURL }
}
