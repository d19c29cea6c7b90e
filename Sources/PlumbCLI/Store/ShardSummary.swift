// What `plumb shards ls` and `stats` show per file: from the stage manifest when there is one, else
// from the shard's end-of-shard marker (cheap), or from a full scan when asked.
import Foundation
import PlumbStore

struct ShardSummary {
    var set: String
    var file: URL
    var records: Int?
    var rawBytes: Int?
    var compressedBytes: Int
    var schemas: [String: Int]?
    var source: String

    static func summarize(_ path: URL, scan: Bool) throws -> [ShardSummary] {
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

    var json: [String: Any] {
        var object: [String: Any] = ["set": set, "file": file.path, "compressed_bytes": compressedBytes, "source": source]
        if let records { object["records"] = records }
        if let rawBytes { object["raw_bytes"] = rawBytes }
        if let schemas { object["schemas"] = schemas }
        return object
    }
}
