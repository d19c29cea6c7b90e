// Shard file names: `NAME-00000-of-00008.jsonl.zst` when finished, `.NAME-00000.jsonl.zst.partial`
// while being written (hidden, and never matching the finished pattern).
import Foundation

public enum ShardNaming {
    public static let suffix = ".jsonl.zst"

    public static func finalName(_ name: String, index: Int, count: Int) -> String {
        "\(name)-\(pad5(index))-of-\(pad5(count))\(suffix)"
    }

    public static func partialName(_ name: String, index: Int) -> String {
        ".\(name)-\(pad5(index))\(suffix).partial"
    }

    /// Parses a finished shard file name into (set name, index, count).
    public static func parse(_ fileName: String) -> (name: String, index: Int, count: Int)? {
        guard fileName.hasSuffix(suffix), !fileName.hasPrefix(".") else { return nil }
        let stem = fileName.dropLast(suffix.count)            // NAME-00000-of-00008
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[parts.count - 2] == "of",
              let index = Int(parts[parts.count - 3]), let count = Int(parts[parts.count - 1]),
              index < count else { return nil }
        let name = parts[0..<(parts.count - 3)].joined(separator: "-")
        return name.isEmpty ? nil : (name, index, count)
    }

    /// Checks that `name` can be a shard set name: non-empty, no '/', no leading '.'.
    public static func validate(_ name: String) throws {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), !name.contains("\n") else {
            throw StoreError.badInput("shard set name '\(name)' must be non-empty, without '/' or a leading '.'")
        }
    }

    private static func pad5(_ n: Int) -> String {
        let s = String(n)
        return s.count >= 5 ? s : String(repeating: "0", count: 5 - s.count) + s
    }
}
