// `plumb bench shards`: the flags of ShardsBench (PlumbStore/Benchmarks), its report as one JSON object.
import ArgumentParser
import Foundation
import PlumbStore

struct BenchShardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shards", abstract: "Shard write/read MB/s and ratio vs gzip on HH-RLHF.")

    @Option(help: "JSONL(.gz) input.") var input: String = ShardsBench.Options().input
    @Option(help: "Repeat the input until it is at least this many MB.") var targetMb: Int = 64
    @Option(help: "zstd level.") var level: Int32 = 3
    @Option(help: "zstd worker threads (0: compress on the calling thread).") var threads: Int32 = Int32(ProcessInfo.processInfo.activeProcessorCount)
    @Option(help: "gzip level of the anchor.") var gzipLevel: Int = 6
    @Option(help: "Threads decoding zstd frames when reading.") var readThreads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Reads timed per decoder (and for gzip -dc); the fastest of them is reported.") var repeats: Int = 3
    @Option(help: "Scratch directory (default: a new one under the system temporary directory).") var workDir: String?

    func validate() throws {
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if targetMb < 1 { throw ValidationError("--target-mb must be at least 1") }
        if !(1...22).contains(level) { throw ValidationError("--level must be in 1...22") }
        if !(1...9).contains(gzipLevel) { throw ValidationError("--gzip-level must be in 1...9") }
    }

    func run() throws {
        var o = ShardsBench.Options()
        (o.input, o.targetMb, o.level, o.threads, o.gzipLevel, o.readThreads, o.repeats, o.workDir) =
            (input, targetMb, level, threads, gzipLevel, readThreads, repeats, workDir)
        try printReport(ShardsBench.run(o))
    }
}
