// `plumb shards ls|cat|head|stats|verify|export PATH`: inspect, read and verify record shards.
// PATH is a shard, a directory of shards, a stage directory or a run directory.
import ArgumentParser
import Foundation
import PlumbStore

struct ShardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract: "Inspect, read and verify record shards (a shard, a stage directory or a run).",
        subcommands: [ShardsListCommand.self, ShardsCatCommand.self, ShardsHeadCommand.self, ShardsStatsCommand.self,
                      ShardsVerifyCommand.self, ShardsExportCommand.self, ShardsWriteTestCommand.self]
    )
}

/// The PATH argument shared by the shard commands.
struct ShardPathOptions: ParsableArguments {
    @Argument(help: "A shard file, a directory of shards, a stage directory or a run directory.")
    var path: String

    @Option(help: "Only the shard set with this name (e.g. comparisons).")
    var output: String?

    @Option(help: "Threads decoding zstd frames.")
    var decodeThreads: Int = ProcessInfo.processInfo.activeProcessorCount

    var url: URL { URL(fileURLWithPath: path) }
}

struct ShardsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List shard files with records and sizes.")

    @OptionGroup var target: ShardPathOptions
    @Flag(help: "Read every shard fully instead of trusting the manifest or end marker.") var scan = false
    @Flag(help: "One JSON object per file.") var json = false

    func run() throws {
        let rows = try ShardSummary.summarize(target.url, scan: scan).filter { target.output == nil || $0.set.hasSuffix("/\(target.output!)") || $0.set == target.output }
        if json { try rows.forEach { try printJSON($0.json) }; return }
        var table = TextTable(["set", "file", "records", "raw", "compressed", "ratio"], rightAligned: [2, 3, 4, 5])
        for row in rows {
            table.add([row.set, row.file.lastPathComponent, row.records.map(String.init) ?? "?",
                       row.rawBytes.map(formatBytes) ?? "?", formatBytes(row.compressedBytes),
                       row.rawBytes.map { formatRatio($0, row.compressedBytes) } ?? "-"])
        }
        print(table.render())
    }
}

struct ShardsStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Records, raw and compressed bytes, ratio and schemas per shard set.")

    @OptionGroup var target: ShardPathOptions
    @Flag(help: "Read every shard fully instead of trusting the manifest.") var scan = false
    @Flag(help: "One JSON object per shard set.") var json = false

    func run() throws {
        let rows = try ShardSummary.summarize(target.url, scan: scan).filter { target.output == nil || $0.set.hasSuffix("/\(target.output!)") || $0.set == target.output }
        let totals = try ShardSetTotal.totals(rows)
        if json { return try totals.forEach { try printJSON($0.json) } }
        var table = TextTable(["set", "files", "records", "raw", "compressed", "ratio", "schemas"], rightAligned: [1, 2, 3, 4, 5])
        for t in totals {
            table.add([t.set, String(t.files), String(t.records), formatBytes(t.raw), formatBytes(t.compressed),
                       formatRatio(t.raw, t.compressed), formatSchemas(t.schemas)])
        }
        print(table.render())
    }
}

struct ShardsVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read everything; check checksums, counts and schemas against the manifest. Exit status 1 on any problem.")

    @Argument(help: "A shard file, a directory of shards, a stage directory or a run directory.") var path: String
    @Flag(help: "One JSON object per file checked.") var json = false

    func run() throws {
        let report = try Verifier.verify(URL(fileURLWithPath: path))
        if json {
            for finding in report.findings {
                var object: [String: Any] = ["file": finding.file, "ok": finding.ok, "problems": finding.problems]
                if let records = finding.records { object["records"] = records }
                try printJSON(object)
            }
        } else {
            var table = TextTable(["status", "file", "records"], rightAligned: [2])
            for f in report.findings { table.add([f.ok ? "ok" : "FAIL", f.file, f.records.map(String.init) ?? "-"]) }
            print(table.render())
            for f in report.findings where !f.ok {
                print("\n\(f.file):")
                f.problems.forEach { print("  - \($0)") }
            }
            let bad = report.findings.filter { !$0.ok }.count
            print("\n\(report.findings.count) files checked, \(bad) with problems")
        }
        if !report.ok { throw ExitCode(1) }
    }
}

struct ShardsExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Decompress a stored artifact (e.g. a checkpoint) of a stage, checking it against the manifest.")

    @Argument(help: "A stage directory, or any .zst file.") var path: String
    @Argument(help: "The artifact's name in the stage's manifest (e.g. model.safetensors); omit for a plain .zst file.") var name: String?
    @Option(name: .customLong("to"), help: "Where to write the uncompressed bytes.") var destination: String

    func run() throws {
        let url = URL(fileURLWithPath: path)
        let out = URL(fileURLWithPath: destination)
        if let name {
            let manifest = try StageManifest.read(from: url)
            guard let artifact = manifest.artifacts.first(where: { $0.name == name }) else {
                throw CLIError("\(url.path): no artifact named '\(name)'", hint: "artifacts: \(manifest.artifacts.map(\.name).joined(separator: ", "))")
            }
            let bytes = try ArtifactStore.export(artifact, from: url, to: out)
            print("\(out.path): \(bytes) bytes, sha256 \(artifact.rawSHA256) (matches the manifest)")
        } else {
            let (sha, bytes) = try ArtifactStore.decompress(url, to: out)
            print("\(out.path): \(bytes) bytes, sha256 \(sha)")
        }
    }
}
