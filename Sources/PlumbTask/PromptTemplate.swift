// A prompt phrasing with named slots, e.g. "What is {a} plus {b}?". Templates render prompts for the
// generator and match prompts back into slot values for the oracle. Held-out templates are used only
// by evaluation prompts.

import Foundation

public struct PromptTemplate: Hashable, Sendable {
    public let id: String
    public let pattern: String
    public let heldOut: Bool

    /// Literal pieces and slot names in order: pieces.count == slots.count + 1.
    let pieces: [String]
    let slots: [String]
    /// `pieces`, lower-cased once (matching is case-insensitive).
    let lowPieces: [String]

    public init(_ id: String, _ pattern: String, heldOut: Bool = false) {
        self.id = id
        self.pattern = pattern
        self.heldOut = heldOut
        var pieces: [String] = []
        var slots: [String] = []
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            pieces.append(String(rest[..<open]))
            slots.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        pieces.append(String(rest))
        self.pieces = pieces
        self.slots = slots
        lowPieces = pieces.map { $0.lowercased() }
    }

    /// The prompt with every slot replaced by its value; the first letter is upper-cased.
    public func render(_ values: [String: String]) -> String {
        var out = pieces[0]
        for (i, slot) in slots.enumerated() {
            out += values[slot] ?? "{\(slot)}"
            out += pieces[i + 1]
        }
        return out.prefix(1).uppercased() + out.dropFirst()
    }

    /// The slot values if `text` has this template's shape (case-insensitive, outer spaces ignored).
    /// Each literal piece is found at its first occurrence after the previous slot.
    public func match(_ text: String) -> [String: String]? {
        matchLowered(text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
    }

    /// `match` on text already trimmed and lower-cased.
    func matchLowered(_ lowered: String) -> [String: String]? {
        guard lowered.hasPrefix(lowPieces[0]), lowered.hasSuffix(lowPieces[lowPieces.count - 1]) else { return nil }
        guard lowered.count >= lowPieces[0].count + lowPieces[lowPieces.count - 1].count else { return nil }
        var values: [String: String] = [:]
        var cursor = lowered.index(lowered.startIndex, offsetBy: lowPieces[0].count)
        let end = lowered.index(lowered.endIndex, offsetBy: -lowPieces[lowPieces.count - 1].count)
        for (i, slot) in slots.enumerated() {
            let slotEnd: String.Index
            if i == slots.count - 1 {
                slotEnd = end
            } else {
                guard let found = lowered.range(of: lowPieces[i + 1], range: cursor..<end) else { return nil }
                slotEnd = found.lowerBound
                values[slot] = String(lowered[cursor..<slotEnd])
                cursor = found.upperBound
                continue
            }
            guard cursor <= slotEnd else { return nil }
            values[slot] = String(lowered[cursor..<slotEnd])
        }
        if slots.isEmpty && lowered != lowPieces[0] { return nil }
        guard values.values.allSatisfy({ !$0.isEmpty }) else { return nil }
        return values
    }
}
