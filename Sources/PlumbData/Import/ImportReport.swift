// One import source's counts in words, as `plumb import` prints them: the format and why, the
// column mapping, the balance of rows read against accepted, quarantined, duplicate, tied and
// aggregated records, then each kind of count by name.
import Foundation

/// Human-readable lines for one source's counts.
public enum ImportReport {
    public static func describe(_ source: SourceCounts) -> String {
        var lines = ["\(source.file): \(source.format.rawValue) (\(source.detection))"]
        if !source.columns.isEmpty {
            lines.append("  columns: " + source.columns.sorted { $0.key < $1.key }.map { "\($0.key) <- \($0.value)" }.joined(separator: ", "))
        }
        let reasons = source.quarantined.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("  rows \(source.rowsRead); records read \(source.recordsRead) = accepted \(source.accepted) + quarantined \(source.quarantinedTotal)"
            + " + duplicates \(source.exactDuplicates) exact, \(source.nearDuplicates) near + ties \(source.tiesTotal)"
            + " + aggregated \(source.aggregated)")
        if !source.agreement.isEmpty {
            lines.append("  pairs judged several times: " + source.agreement.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !source.skipped.isEmpty {
            lines.append("  left out by rule: " + source.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !source.ties.isEmpty {
            lines.append("  ties set aside: " + source.ties.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !reasons.isEmpty { lines.append("  quarantined: \(reasons)") }
        let kinds = source.acceptedByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("  accepted: \(kinds.isEmpty ? "none" : kinds)")
        if !source.derived.isEmpty {
            lines.append("  derived: " + source.derived.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
