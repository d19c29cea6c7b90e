// A stage of synthetic records (`plumb shards _write-test`, hidden): what the store's fault tests kill
// a real writer process in the middle of, to check what it leaves behind.
import Foundation

public enum SyntheticStage {
    struct Record: Codable {
        var schema = "write-test/1"
        var id: Int
        var text: String
    }

    /// Writes `records` records in shards of `recordsPerShard` as RUNS/RUN/STAGE (kind `write-test`) and
    /// completes it; after `pauseAfter` records it calls `pause` (which a test's writer never returns from).
    public static func write(runsRoot: URL, run: String, stage: String, records: Int, recordsPerShard: Int, pauseAfter: Int?,
                             pause: () -> Void) throws {
        let writer = try StageWriter.begin(runsRoot: runsRoot, run: run, stage: stage, kind: "write-test",
                                           config: ["records": records, "records_per_shard": recordsPerShard], seed: 1)
        var options = ShardWriter.Options()
        options.maxRecordsPerShard = recordsPerShard
        let shards = try writer.shardWriter(name: "records", options: options)
        for i in 0..<records {
            try shards.append(Record(id: i, text: "synthetic record \(i)"))
            if i + 1 == pauseAfter { pause() }
        }
        try writer.addOutput(name: "records", files: try shards.finish())
        writer.setMetric("records", Double(records))
        try writer.complete()
    }
}
