import Foundation
import PlumbStore

/// What one input file gave. Counts are of records: each record a converter produced, plus each
/// row or annotation that could not be converted (one quarantine entry each), so that
/// `recordsRead == accepted + quarantined + exactDuplicates + nearDuplicates + ties + aggregated`,
/// where `ties` are tie and both-bad votes set aside (with `keepTies` they are accepted as tie
/// records instead) and `aggregated` are the further judgements of a pair judged several times,
/// folded into the first one's record (`VoteAggregator`). `rowsRead` counts input rows (a
/// PKU-SafeRLHF row gives two records). Records derived from accepted rankings, edits and ratings
/// are counted apart, in `derived`; replies a tree format leaves out by rule (deleted, failed or
/// missing review, unranked, another language) are not records and are counted in `skipped`.
public struct SourceCounts: Codable, Equatable, Sendable {
    public var file: String
    public var format: ImportFormat
    public var detection: String
    /// Which input column became which canonical field (`prompt` -> `question`, ...), when the
    /// format reads named columns.
    public var columns: [String: String] = [:]
    public var rowsRead = 0
    public var recordsRead = 0
    public var accepted = 0
    /// Quarantined records by reason (`QuarantineReason` raw values).
    public var quarantined: [String: Int] = [:]
    public var exactDuplicates = 0
    public var nearDuplicates = 0
    /// Tie votes set aside, by kind (`TieKind` raw values: `tie`, `both_bad`).
    public var ties: [String: Int] = [:]
    /// Judgements of an already counted pair, folded into its record.
    public var aggregated = 0
    /// Pairs judged several times, by how the judges agreed (`VoteAggregator.agreement`:
    /// `unanimous`, `no_opposing_vote`, `split`, `tie`).
    public var agreement: [String: Int] = [:]
    /// Replies left out by rule, by reason (`deleted`, `review_failed`, `unreviewed`, `unranked`,
    /// `other_language`, `no_sibling`).
    public var skipped: [String: Int] = [:]
    /// Accepted records by kind (`RecordKind` raw values).
    public var acceptedByKind: [String: Int] = [:]
    /// Derived records by kind: pairs from rankings; demonstrations and comparisons from edits.
    public var derived: [String: Int] = [:]

    public init(file: String, format: ImportFormat, detection: String, columns: [String: String] = [:]) {
        self.file = file
        self.format = format
        self.detection = detection
        self.columns = columns
    }

    public var quarantinedTotal: Int { quarantined.values.reduce(0, +) }
    public var tiesTotal: Int { ties.values.reduce(0, +) }
    public var isBalanced: Bool {
        recordsRead == accepted + quarantinedTotal + exactDuplicates + nearDuplicates + tiesTotal + aggregated
    }

    public func quarantined(_ reason: QuarantineReason) -> Int { quarantined[reason.rawValue] ?? 0 }
    public func accepted(_ kind: RecordKind) -> Int { acceptedByKind[kind.rawValue] ?? 0 }
    public func derived(_ kind: RecordKind) -> Int { derived[kind.rawValue] ?? 0 }
}

/// An accepted or derived record with its split.
public struct ImportedRecord: Equatable, Sendable {
    public var record: Record
    public var split: Split
    /// True for records derived from a ranking or an edit.
    public var derived: Bool
}

/// Everything an import produced.
public struct ImportResult: Sendable {
    public var records: [ImportedRecord] = []
    public var quarantine: [QuarantineEntry] = []
    public var sources: [SourceCounts] = []

    /// Records of one kind, in input order.
    public func records(_ kind: RecordKind) -> [Record] {
        records.map(\.record).filter { $0.kind == kind }
    }

    /// Comparisons with a preference (tie records left out).
    public var comparisons: [Comparison] {
        records.compactMap { if case .comparison(let c) = $0.record, !c.isTie { return c } else { return nil } }
    }

    /// Tie records (kept with `ImportOptions.keepTies`).
    public var ties: [Comparison] {
        records.compactMap { if case .comparison(let c) = $0.record, c.isTie { return c } else { return nil } }
    }

    public var feedback: [Feedback] {
        records.compactMap { if case .feedback(let r) = $0.record { return r } else { return nil } }
    }

    public var ratings: [Rating] {
        records.compactMap { if case .rating(let r) = $0.record { return r } else { return nil } }
    }

    public var rankings: [Ranking] {
        records.compactMap { if case .ranking(let r) = $0.record { return r } else { return nil } }
    }

    public var labelledResponses: [LabelledResponse] {
        records.compactMap { if case .labelledResponse(let r) = $0.record { return r } else { return nil } }
    }
}
