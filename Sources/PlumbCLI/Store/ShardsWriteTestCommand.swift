// `plumb shards _write-test` (hidden): writes one stage of synthetic records, optionally pausing
// mid-write, so tests can kill a real writer process and check what it leaves behind.
import ArgumentParser
import Foundation
import PlumbStore

struct ShardsWriteTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_write-test", abstract: "Test helper: write a stage of synthetic records.", shouldDisplay: false)

    @Option(help: "The runs directory.") var root: String
    @Option(name: .customLong("run"), help: "Run name.") var runName: String = "write-test"
    @Option(name: .customLong("stage"), help: "Stage name.") var stageName: String = "write"
    @Option(help: "Records to write.") var records: Int = 1000
    @Option(help: "Records per shard.") var recordsPerShard: Int = 100
    @Option(help: "After this many records, print 'paused' and wait to be killed.") var pauseAfter: Int?

    func run() throws {
        try SyntheticStage.write(runsRoot: URL(fileURLWithPath: root), run: runName, stage: stageName, records: records,
                                 recordsPerShard: recordsPerShard, pauseAfter: pauseAfter) {
            print("paused")
            fflush(stdout)
            while true { sleep(60) }
        }
        print("complete")
    }
}
