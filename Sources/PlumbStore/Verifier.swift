// `verify`: reads every shard and artifact under a path and checks it against its manifest (SHA-256,
// records, raw and compressed bytes, schemas) or, without a manifest, against its own name
// (`-of-N` complete) and frame checksums. Every problem is reported by file, and by frame and record
// where zstd or the record scan can say.
import Foundation

public struct VerifyFinding: Codable, Equatable, Sendable {
    public var file: String
    public var records: Int?
    public var problems: [String]
    public var ok: Bool { problems.isEmpty }
}

public struct VerifyReport: Codable, Equatable, Sendable {
    public var findings: [VerifyFinding] = []
    public var ok: Bool { findings.allSatisfy(\.ok) }
    public var problemCount: Int { findings.reduce(0) { $0 + $1.problems.count } }
}

public enum Verifier {
    /// Verifies a shard file, a directory of shards, a stage directory or a run directory.
    public static func verify(_ path: URL) throws -> VerifyReport {
        var report = VerifyReport()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw StoreError.notFound(path: path.path, reason: "no such file or directory")
        }
        if !isDirectory.boolValue {
            report.findings.append(checkShard(path, against: nil))
        } else if FileManager.default.fileExists(atPath: path.appendingPathComponent(StageManifest.fileName).path) {
            report.findings += verifyStage(path)
        } else {
            let entries = try ShardLocator.listing(path)
            let stages = entries.filter {
                FileManager.default.fileExists(atPath: path.appendingPathComponent($0).appendingPathComponent(StageManifest.fileName).path)
            }
            if !stages.isEmpty {
                for stage in stages { report.findings += verifyStage(path.appendingPathComponent(stage)) }
            } else {
                let sets = ShardLocator.looseSets(path, entries)
                if sets.isEmpty { throw StoreError.notFound(path: path.path, reason: "no shards, stage manifest or stages here") }
                for set in sets { report.findings += verifyLooseSet(set) }
            }
        }
        return report
    }

    static func verifyStage(_ directory: URL) -> [VerifyFinding] {
        let manifestPath = directory.appendingPathComponent(StageManifest.fileName).path
        let manifest: StageManifest
        do { manifest = try StageManifest.read(from: directory) } catch {
            return [VerifyFinding(file: manifestPath, records: nil, problems: ["\(error)"])]
        }
        var findings: [VerifyFinding] = []
        if manifest.status != .complete {
            let why = manifest.error.map { ": \($0)" } ?? ""
            findings.append(VerifyFinding(file: manifestPath, records: nil, problems: ["stage status is \(manifest.status.rawValue)\(why), not complete"]))
        }
        var listed = Set<String>()
        for output in manifest.outputs {
            for file in output.files {
                listed.insert(file.file)
                findings.append(checkShard(directory.appendingPathComponent(file.file), against: file))
            }
        }
        for artifact in manifest.artifacts {
            listed.insert(artifact.file)
            findings.append(checkArtifact(artifact, in: directory))
        }
        let entries = (try? ShardLocator.listing(directory)) ?? []
        for entry in entries where ShardNaming.parse(entry) != nil && !listed.contains(entry) {
            findings.append(VerifyFinding(file: directory.appendingPathComponent(entry).path, records: nil,
                                          problems: ["shard file is not listed in the manifest"]))
        }
        return findings
    }

    static func verifyLooseSet(_ set: LocatedShardSet) -> [VerifyFinding] {
        var findings = set.files.map { checkShard($0, against: nil) }
        let parsed = set.files.compactMap { ShardNaming.parse($0.lastPathComponent) }
        if let count = parsed.first?.count {
            let missing = Set(0..<count).subtracting(parsed.map(\.index)).sorted()
            let wrongCount = parsed.filter { $0.count != count }
            if !missing.isEmpty || !wrongCount.isEmpty {
                findings.append(VerifyFinding(file: set.directory.appendingPathComponent(set.name).path, records: nil, problems: [
                    "shard set '\(set.name)' is incomplete: missing indices \(missing) of \(count)"
                        + (wrongCount.isEmpty ? "" : ", and files disagreeing on the count"),
                ]))
            }
        }
        return findings
    }

    /// Reads one shard fully; compares with the manifest's record of it when given.
    static func checkShard(_ url: URL, against expected: ShardFileInfo?) -> VerifyFinding {
        guard FileManager.default.fileExists(atPath: url.path) else {
            return VerifyFinding(file: url.path, records: nil, problems: ["missing"])
        }
        let scan: ShardScan
        do { scan = try ShardScanner.scan(url) } catch {
            var problems = ["\(error)"]
            if let expected, let sha = try? SHA256.hex(ofFile: url), sha != expected.sha256 {
                problems.append("sha256 \(sha) does not match the manifest's \(expected.sha256)")
            }
            return VerifyFinding(file: url.path, records: nil, problems: problems)
        }
        var problems = scan.recordProblems
        if scan.recordsWithoutSchema > scan.recordProblems.count {
            problems.append("\(scan.recordsWithoutSchema) records in all lack a valid \"schema\"")
        }
        if let e = expected {
            func compare<T: Equatable>(_ what: String, _ found: T, _ wanted: T) {
                if found != wanted { problems.append("\(what): found \(found), manifest says \(wanted)") }
            }
            compare("sha256", scan.sha256, e.sha256)
            compare("records", scan.records, e.records)
            compare("raw bytes", scan.rawBytes, e.rawBytes)
            compare("compressed bytes", scan.compressedBytes, e.compressedBytes)
            compare("schemas", scan.schemas.filter { !$0.key.isEmpty }, e.schemas.filter { !$0.key.isEmpty })
        }
        return VerifyFinding(file: url.path, records: scan.records, problems: problems)
    }

    static func checkArtifact(_ artifact: StoredArtifact, in directory: URL) -> VerifyFinding {
        let url = directory.appendingPathComponent(artifact.file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            return VerifyFinding(file: url.path, records: nil, problems: ["missing"])
        }
        var problems: [String] = []
        do {
            let sha = try SHA256.hex(ofFile: url)
            if sha != artifact.sha256 { problems.append("sha256 \(sha) does not match the manifest's \(artifact.sha256)") }
            let (rawSHA, rawBytes) = try ArtifactStore.decompress(url, to: nil)
            if rawSHA != artifact.rawSHA256 { problems.append("decompressed sha256 \(rawSHA) does not match the manifest's \(artifact.rawSHA256)") }
            if rawBytes != artifact.rawBytes { problems.append("decompressed size \(rawBytes), manifest says \(artifact.rawBytes)") }
        } catch {
            problems.append("\(error)")
        }
        return VerifyFinding(file: url.path, records: nil, problems: problems)
    }
}
