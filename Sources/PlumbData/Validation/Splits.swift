import Foundation

/// Which part of the data a record belongs to.
public enum Split: String, Codable, CaseIterable, Sendable {
    case train
    case validation
    case test
}

/// Fractions of prompts in validation and test (train gets the rest).
public struct SplitFractions: Codable, Equatable, Sendable {
    public var validation = 0.05
    public var test = 0.05
    /// Prefixed to the text before hashing: another salt draws another split of the same prompts
    /// (for repeated held-out estimates on small data). Nil and "" give the unsalted split.
    public var salt: String?

    public init(validation: Double = 0.05, test: Double = 0.05, salt: String? = nil) {
        self.validation = validation
        self.test = test
        self.salt = salt
    }

    /// A prompt's split, from an FNV-1a hash of its (salted) normalised text, so every record of one
    /// prompt, from any source, lands in the same split.
    public func split(for prompt: Prompt) -> Split {
        let salt = self.salt ?? ""
        let hash = FNV1a64.hash((salt.isEmpty ? "" : salt + "\u{0}") + Validator.normalise(prompt.text))
        let unit = Double(hash >> 11) / Double(1 << 53)  // uniform in [0, 1)
        if unit < test { return .test }
        if unit < test + validation { return .validation }
        return .train
    }
}
