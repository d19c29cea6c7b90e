// Aligned, short tables for human output: text columns left-aligned, number columns right-aligned;
// a cell padded to a width; byte counts, ratios and schema counts as the tables print them.
import Foundation

public struct TextTable {
    public var headers: [String]
    /// Indices of columns aligned to the right (numbers).
    public var rightAligned: Set<Int>
    public var rows: [[String]] = []

    public init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    public func render() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { c in all.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return all.map { row in
            headers.indices.map { c -> String in
                let cell = c < row.count ? row[c] : ""
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return rightAligned.contains(c) ? pad + cell : (c == headers.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// 1234567 -> "1.2 MB" (decimal units, as throughput figures use).
public func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

public func formatRatio(_ raw: Int, _ compressed: Int) -> String {
    compressed > 0 ? String(format: "%.2f", Double(raw) / Double(compressed)) : "-"
}

/// Schemas with counts, most common first: "comparison/1 x1200, quarantine/1 x3".
public func formatSchemas(_ schemas: [String: Int]) -> String {
    let sorted = schemas.filter { !$0.key.isEmpty }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    return sorted.isEmpty ? "-" : sorted.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
}

/// `s` padded with spaces to `width` characters (at least one space after it).
public func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
