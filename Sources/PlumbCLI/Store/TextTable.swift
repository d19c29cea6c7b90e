// Aligned, short tables for human output: text columns left-aligned, number columns right-aligned.
import Foundation

struct TextTable {
    var headers: [String]
    /// Indices of columns aligned to the right (numbers).
    var rightAligned: Set<Int>
    var rows: [[String]] = []

    init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
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
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

func formatRatio(_ raw: Int, _ compressed: Int) -> String {
    compressed > 0 ? String(format: "%.2f", Double(raw) / Double(compressed)) : "-"
}

/// Schemas with counts, most common first: "comparison/1 x1200, quarantine/1 x3".
func formatSchemas(_ schemas: [String: Int]) -> String {
    let sorted = schemas.filter { !$0.key.isEmpty }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    return sorted.isEmpty ? "-" : sorted.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
}
