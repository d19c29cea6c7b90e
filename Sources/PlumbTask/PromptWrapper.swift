// Greetings and sign-offs around a prompt ("Hi! ... Thanks!"): they multiply the ways each request is
// phrased, so a prompt set of thousands needs no repeated prompt, and the tiny model must learn to
// look past them. They never change what a prompt asks, and are not part of the held-out split.

import Foundation

public struct PromptWrapper: Hashable, Sendable {
    public let prefix: String
    public let suffix: String

    public static let prefixes = ["", "Hi! ", "Hello. ", "Quick question: ", "Please help. ", "One more thing: "]
    public static let suffixes = ["", " Thanks!", " Thank you.", " Please answer briefly.", " I am curious."]
    public static let none = PromptWrapper(prefix: "", suffix: "")

    public func apply(to core: String) -> String { prefix + core + suffix }

    /// Half the prompts are bare; otherwise each greeting and each sign-off appears with probability one half.
    public static func sample(rng: inout TaskRandom) -> PromptWrapper {
        let prefix = rng.chance(0.5) ? rng.pick(Array(prefixes.dropFirst())) : ""
        let suffix = rng.chance(0.5) ? rng.pick(Array(suffixes.dropFirst())) : ""
        return PromptWrapper(prefix: prefix, suffix: suffix)
    }

    /// Every (wrapper, core) reading of `text`: the bare text first, then with a known greeting
    /// and/or sign-off removed (compared case-insensitively, outer spaces ignored).
    public static func readings(of text: String) -> [(wrapper: PromptWrapper, core: String)] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let lowered = trimmed.lowercased()
        var out: [(PromptWrapper, String)] = []
        for prefix in prefixes {
            let p = prefix.lowercased().trimmingCharacters(in: .whitespaces)
            guard lowered.hasPrefix(p) else { continue }
            for suffix in suffixes {
                let s = suffix.lowercased().trimmingCharacters(in: .whitespaces)
                guard lowered.hasSuffix(s), lowered.count > p.count + s.count else { continue }
                let core = trimmed.dropFirst(p.count).dropLast(s.count).trimmingCharacters(in: .whitespaces)
                out.append((PromptWrapper(prefix: prefix, suffix: suffix), core))
            }
        }
        return out
    }
}
