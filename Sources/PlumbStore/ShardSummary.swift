// What `plumb shards ls` and `stats` show per file and per set: from the stage manifest when there is one, else
// from the shard's end-of-shard marker (cheap), or from a full scan when asked.
import Foundation

public struct ShardSummary {
    public var set: String
    public var file: URL
    public var records: Int?
    public var rawBytes: Int?
    public var compressedBytes: Int
    public var schemas: [String: Int]?
    public var source: String

    public static func summarize(_ path: URL, scan: Bool) throws -> [ShardSummary] {
        try ShardLocator.locate(path).flatMap { set in
            try set.files.map { file in
                let label = set.stage.map { "\($0)/\(set.name)" } ?? set.name
                let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
                if !scan, let recorded = set.recorded?.files.first(where: { $0.file == file.lastPathComponent }) {
                    return ShardSummary(set: label, file: file, records: recorded.records, rawBytes: recorded.rawBytes,
                                        compressedBytes: recorded.compressedBytes, schemas: recorded.schemas, source: "manifest")
                }
                if !scan, let marker = ShardInspector.endMarker(of: file) {
                    return ShardSummary(set: label, file: file, records: marker.records, rawBytes: marker.rawBytes,
                                        compressedBytes: size, schemas: nil, source: "end marker")
                }
                let result = try ShardScanner.scan(file)
                return ShardSummary(set: label, file: file, records: result.records, rawBytes: result.rawBytes,
                                    compressedBytes: result.compressedBytes, schemas: result.schemas, source: "scan")
            }
        }
    }

    /// The summary as `plumb shards ls --json` prints it.
    public var json: [String: Any] {
        var object: [String: Any] = ["set": set, "file": file.path, "compressed_bytes": compressedBytes, "source": source]
        if let records { object["records"] = records }
        if let rawBytes { object["raw_bytes"] = rawBytes }
        if let schemas { object["schemas"] = schemas }
        return object
    }
}

/// One shard set's files added up (`plumb shards stats`).
public struct ShardSetTotal {
    public var set: String
    public var files = 0, records = 0, raw = 0, compressed = 0
    public var schemas: [String: Int] = [:]

    /// The sets of `rows` in their first appearance's order; a file without manifest schemas (end
    /// marker only) is scanned for them.
    public static func totals(_ rows: [ShardSummary]) throws -> [ShardSetTotal] {
        var out: [ShardSetTotal] = []
        for row in rows {
            if !out.contains(where: { $0.set == row.set }) { out.append(ShardSetTotal(set: row.set)) }
            let i = out.firstIndex { $0.set == row.set }!
            let schemas = try row.schemas ?? ShardScanner.scan(row.file).schemas
            out[i].files += 1
            out[i].records += row.records ?? 0
            out[i].raw += row.rawBytes ?? 0
            out[i].compressed += row.compressedBytes
            schemas.forEach { out[i].schemas[$0.key, default: 0] += $0.value }
        }
        return out
    }

    public var json: [String: Any] {
        ["set": set, "files": files, "records": records, "raw_bytes": raw, "compressed_bytes": compressed,
         "ratio": compressed > 0 ? Double(raw) / Double(compressed) : 0, "schemas": schemas.filter { !$0.key.isEmpty }]
    }
}
