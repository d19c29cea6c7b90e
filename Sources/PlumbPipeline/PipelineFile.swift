// A pipeline file (YAML): named stages, each with its kind, its inputs (other stages of this run, or
// of earlier runs) and its options (the command's own option names). Named settings profiles
// supply `${NAME}` values, so one file serves several sizes. Every element keeps its line, so an
// error names the file, line and key. The format is described in docs/pipelines.md.
//
//   pipeline: main-job
//   settings:
//     quick: {seed: 1, vocab: 512}
//   stages:
//     tokenizer:
//       kind: tokenizer train
//       inputs: {input: task/corpus.txt}
//       options: {vocab-size: "${vocab}"}
import Foundation
import PlumbStore
import Yams

/// A place in a pipeline file, for error messages.
public struct PipelineLocation: Equatable, Codable {
    var file: String
    var line: Int
    var key: String

    var description: String { "\(file):\(line): \(key)" }
}

public struct PipelineError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
    init(_ at: PipelineLocation, _ message: String) { description = "\(at.description): \(message)" }
}

/// One value of an option or input as written, with its place.
struct PipelineValue: Equatable {
    var text: String
    var at: PipelineLocation
}

struct PipelineStageSpec {
    var name: String
    var kind: String
    var at: PipelineLocation
    /// Input option name -> stage references, in file order.
    var inputs: [(option: String, refs: [PipelineValue])]
    /// Option name -> values (a list gives the option once per value; `true` is a flag).
    var options: [(option: String, values: [PipelineValue])]
}

public struct PipelineFile {
    public var path: String
    public var name: String
    /// Profile name -> variable -> value, in file order.
    var profiles: [(name: String, values: [String: String])]
    var stages: [PipelineStageSpec]
    /// SHA-256 of the file's bytes.
    var sha256: String

    /// A location naming a built-in file: `builtin:main-job.yaml`.
    public static let builtInPrefix = "builtin:"

    /// Parses the file at `path`, or the built-in file `builtin:NAME` (one of `builtIn`, name -> text);
    /// `${NAME}` in options and inputs are replaced from `profile` (default: the first) and then `overrides`.
    static func load(_ path: String, builtIn: [String: String] = [:], profile: String? = nil,
                     overrides: [String: String] = [:]) throws -> PipelineFile {
        if path.hasPrefix(builtInPrefix) {
            let name = String(path.dropFirst(builtInPrefix.count))
            guard let text = builtIn[name] else {
                throw PipelineError("\(path): no such built-in pipeline (built in: \(builtIn.keys.sorted().joined(separator: ", ")))")
            }
            return try parse(text, path: path, profile: profile, overrides: overrides)
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw PipelineError("\(path): cannot read: \(error.localizedDescription)") }
        return try parse(String(decoding: data, as: UTF8.self), path: path, profile: profile, overrides: overrides)
    }

    static func parse(_ text: String, path: String, profile: String? = nil, overrides: [String: String] = [:]) throws -> PipelineFile {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw PipelineError("\(path): empty pipeline file") }
            root = node
        } catch let error as PipelineError { throw error } catch {
            throw PipelineError("\(path): not valid YAML: \(error)")
        }
        let reader = NodeReader(path: path)
        let top = try reader.mapping(root, key: "(top level)")
        try reader.onlyKeys(top, ["pipeline", "settings", "stages"], in: "(top level)")
        let name = try top.first { $0.key == "pipeline" }.map { try reader.scalar($0.value, key: "pipeline") } ?? "pipeline"

        var profiles: [(name: String, values: [String: String])] = []
        if let settings = top.first(where: { $0.key == "settings" }) {
            for (profileName, node, _) in try reader.mapping(settings.value, key: "settings") {
                var values: [String: String] = [:]
                for (key, value, _) in try reader.mapping(node, key: "settings.\(profileName)") {
                    values[key] = try reader.scalar(value, key: "settings.\(profileName).\(key)")
                }
                profiles.append((profileName, values))
            }
        }
        var variables: [String: String] = [:]
        if let profile {
            guard let chosen = profiles.first(where: { $0.name == profile }) else {
                throw PipelineError("\(path): no settings profile \"\(profile)\" (the file has: \(profiles.map(\.name).joined(separator: ", ")))")
            }
            variables = chosen.values
        } else if let first = profiles.first {
            variables = first.values
        }
        variables.merge(overrides) { $1 }

        guard let stagesNode = top.first(where: { $0.key == "stages" }) else { throw PipelineError("\(path): no `stages:` mapping") }
        var stages: [PipelineStageSpec] = []
        for (stageName, node, line) in try reader.mapping(stagesNode.value, key: "stages") {
            let key = "stages.\(stageName)"
            let at = PipelineLocation(file: path, line: line, key: key)
            guard stageName.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]*$", options: .regularExpression) != nil else {
                throw PipelineError(at, "a stage name is letters, digits, '.', '_' and '-' (it names a directory)")
            }
            let fields = try reader.mapping(node, key: key)
            try reader.onlyKeys(fields, ["kind", "inputs", "options"], in: key)
            guard let kindNode = fields.first(where: { $0.key == "kind" }) else { throw PipelineError(at, "no `kind:`") }
            var spec = PipelineStageSpec(name: stageName, kind: try reader.scalar(kindNode.value, key: "\(key).kind"),
                                         at: at, inputs: [], options: [])
            for (field, target) in [("inputs", 0), ("options", 1)] {
                guard let entry = fields.first(where: { $0.key == field }) else { continue }
                for (option, valueNode, _) in try reader.mapping(entry.value, key: "\(key).\(field)") {
                    let values = try reader.values(valueNode, key: "\(key).\(field).\(option)").map {
                        PipelineValue(text: try substitute($0.text, variables, at: $0.at), at: $0.at)
                    }
                    if target == 0 { spec.inputs.append((option, values)) } else { spec.options.append((option, values)) }
                }
            }
            stages.append(spec)
        }
        return PipelineFile(path: path, name: name, profiles: profiles, stages: stages, sha256: SHA256.hex(of: Data(text.utf8)))
    }

    /// Replaces each `${NAME}` in `text`.
    static func substitute(_ text: String, _ variables: [String: String], at: PipelineLocation) throws -> String {
        var out = "", rest = Substring(text)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw PipelineError(at, "unclosed ${ in \"\(text)\"") }
            let name = String(rest[open.upperBound..<close])
            guard let value = variables[name] else {
                throw PipelineError(at, "no setting \"\(name)\" (known: \(variables.keys.sorted().joined(separator: ", ")))")
            }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}

/// Reads Yams nodes into strings and ordered pairs, naming the file, line and key on error.
private struct NodeReader {
    let path: String

    func at(_ node: Node, _ key: String) -> PipelineLocation {
        PipelineLocation(file: path, line: node.mark?.line ?? 0, key: key)
    }

    /// The pairs of a mapping; each value's line is its key's line.
    func mapping(_ node: Node, key: String) throws -> [(key: String, value: Node, line: Int)] {
        guard case .mapping(let mapping) = node else { throw PipelineError(at(node, key), "expected a mapping") }
        var seen = Set<String>()
        return try mapping.map { pair in
            let name = try scalar(pair.key, key: key)
            guard seen.insert(name).inserted else { throw PipelineError(at(pair.key, "\(key).\(name)"), "given twice") }
            return (name, pair.value, pair.key.mark?.line ?? 0)
        }
    }

    func scalar(_ node: Node, key: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw PipelineError(at(node, key), "expected a single value") }
        return scalar.string
    }

    /// A scalar or a sequence of scalars.
    func values(_ node: Node, key: String) throws -> [PipelineValue] {
        if case .sequence(let sequence) = node {
            return try sequence.map { PipelineValue(text: try scalar($0, key: key), at: at($0, key)) }
        }
        return [PipelineValue(text: try scalar(node, key: key), at: at(node, key))]
    }

    func onlyKeys(_ pairs: [(key: String, value: Node, line: Int)], _ allowed: [String], in key: String) throws {
        for pair in pairs where !allowed.contains(pair.key) {
            throw PipelineError(PipelineLocation(file: path, line: pair.line, key: "\(key).\(pair.key)"),
                                "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }
}
