// `plumb shards cat` and `head`: stream records to standard output, one JSON object per line.
import ArgumentParser
import Foundation
import PlumbStore

struct ShardsCatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cat", abstract: "Print every record, in order or shuffled with a seed.")

    @OptionGroup var target: ShardPathOptions
    @Flag(help: "Shuffle: shard order, then a bounded buffer of records (see docs/store.md).") var shuffle = false
    @Option(help: "Seed for --shuffle.") var seed: UInt64 = 0
    @Option(help: "Records held by the shuffle buffer.") var buffer: Int = 4096

    func validate() throws {
        if buffer < 1 { throw ValidationError("--buffer must be at least 1") }
    }

    func run() throws {
        let order: ShardReader.Order = shuffle ? .shuffled(seed: seed, bufferRecords: buffer) : .sequential
        try copyRecords(from: target, order: order, limit: nil)
    }
}

struct ShardsHeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "head", abstract: "Print the first records.")

    @OptionGroup var target: ShardPathOptions
    @Option(name: .short, help: "How many records.") var n: Int = 10

    func run() throws { try copyRecords(from: target, order: .sequential, limit: n) }
}

/// Streams records to standard output.
private func copyRecords(from target: ShardPathOptions, order: ShardReader.Order, limit: Int?) throws {
    var options = ShardReader.Options(order: order)
    options.decoding = .frames(threads: max(1, target.decodeThreads))
    try ShardReader(path: target.url, output: target.output, options: options).copyLines(to: .standardOutput, limit: limit)
}
