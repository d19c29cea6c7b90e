import Foundation

/// The first step of TigerBot's harmful-content screen (METHODS.md section 8): a word and phrase
/// list, for recall. File format: one entry per line; blank lines and lines starting with `#` are
/// skipped. An entry matches case-insensitively where it is not part of a longer word: "rob"
/// matches "Rob the stall" but not "robot" or "problem".
public struct SafetyLexicon: Equatable, Sendable {
    /// Lower-cased entries in file order.
    public let entries: [String]

    public init(entries: [String]) {
        self.entries = entries.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    /// Reads a lexicon file; an empty lexicon is an error naming the file.
    public init(file: String) throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw InputError(file: file, reason: "cannot read the lexicon as UTF-8 text")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.hasPrefix("#") }
        self.init(entries: lines)
        guard !entries.isEmpty else { throw InputError(file: file, reason: "the lexicon has no entries (one word or phrase a line)") }
    }

    /// The entries found in `text`, in lexicon order.
    public func matches(_ text: String) -> [String] {
        let lowered = text.lowercased()
        return entries.filter { SafetyLexicon.containsWord($0, in: lowered) }
    }

    static func containsWord(_ entry: String, in text: String) -> Bool {
        var searchStart = text.startIndex
        while let range = text.range(of: entry, range: searchStart..<text.endIndex) {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            if !isWordCharacter(before) && !isWordCharacter(after) { return true }
            searchStart = text.index(after: range.lowerBound)
        }
        return false
    }

    private static func isWordCharacter(_ character: Character?) -> Bool {
        guard let character else { return false }
        return character.isLetter || character.isNumber
    }
}
