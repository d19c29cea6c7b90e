// Reading the records a stage consumes: named output sets of completed stage directories (e.g. an
// import stage's `demonstrations-train`), with the shard files listed so they enter the manifest's
// inputs and the cache key.
import Foundation
import PlumbStore

public struct StageRecords<Record: Decodable> {
    public var records: [Record]
    /// Every shard file read, in order.
    public var files: [URL]
}

public enum StageRecordReader {
    /// All records of the output sets named `output` in `stages` (stage directories or shard paths).
    /// A stage without such an output contributes nothing; an incomplete stage is an error.
    public static func read<Record: Decodable>(_ type: Record.Type, output: String, from stages: [URL], schema: String? = nil) throws -> StageRecords<Record> {
        try read(type, from: stages, schema: schema) { $0 == output }
    }

    /// All records of the output sets whose names start with `outputPrefix` (e.g. `prompts-`), in
    /// each stage's set order.
    public static func readAll<Record: Decodable>(_ type: Record.Type, outputPrefix: String, from stages: [URL], schema: String? = nil) throws -> StageRecords<Record> {
        try read(type, from: stages, schema: schema) { $0.hasPrefix(outputPrefix) }
    }

    static func read<Record: Decodable>(_ type: Record.Type, from stages: [URL], schema: String?, selecting: (String) -> Bool) throws -> StageRecords<Record> {
        var result = StageRecords<Record>(records: [], files: [])
        for path in stages {
            if let manifest = try? StageManifest.read(from: path), manifest.status != .complete {
                throw StageError("\(path.path): stage is \(manifest.status.rawValue); finish or rerun it before using its records")
            }
            let sets = try ShardLocator.locate(path).filter { selecting($0.name) }
            for set in sets {
                let reader = ShardReader(files: set.files, options: ShardReader.Options(expectedSchema: schema))
                result.records += try reader.readAll(Record.self)
                result.files += set.files
            }
        }
        return result
    }
}
