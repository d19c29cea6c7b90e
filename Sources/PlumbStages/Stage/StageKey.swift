// The one cache key of a stage: SHA-256 over its kind, its resolved parameters as canonical JSON
// (so `lr: 0.003` and `lr: 3e-3`, which decode to the same number, give the same key), the content
// checksum of each input by slot (`StageContent`: no paths, so a moved run keeps its keys) and the
// code version. The runner's plan and the stage's own manifest compute it with this one function.
import Foundation
import PlumbStore

public enum StageKey {
    /// The key, and the inputs as they entered it (for the manifest's `slots`).
    public static func compute<P: Encodable>(kind: StageKind, parameters: P, inputs: StageInputs, runsRoot: URL,
                                             code: CodeVersion = .current()) throws -> (key: String, slots: [String: [SlotInput]]) {
        var slots: [String: [SlotInput]] = [:]
        var lines: [String] = []
        for name in inputs.paths.keys.sorted() {
            slots[name] = try inputs.paths[name]!.map { url in
                SlotInput(path: relative(url, to: runsRoot), checksum: try StageContent.checksum(url), producedBy: StageContent.producer(url))
            }
            lines += slots[name]!.map { "\(name) \($0.checksum)" }
        }
        let config = try JSONValue(encoding: parameters)
        return (try CacheKey.compute(kind: kind.name, config: config, inputSHA256s: lines, code: code), slots)
    }

    /// `url`'s path relative to `root` when inside it, else its full path.
    public static func relative(_ url: URL, to root: URL) -> String {
        let base = root.standardizedFileURL.path
        let prefix = base.hasSuffix("/") ? base : base + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
