// A checksum of what a stage wrote, independent of where and when: for a stage with a manifest, the
// SHA-256 of its kind, outputs', stored artifacts' and plain files' checksums (the plain files read
// anew; the manifest's own times, host and paths left out); for a directory without one, the SHA-256
// over every file's relative path and SHA-256; for a file, its SHA-256. It is what an input
// contributes to a cache key, and what the pipeline runner checks a complete stage against.
import Foundation

public enum StageContent {
    /// Names a directory's checksum leaves out: bookkeeping of whoever runs the stage.
    public static var ignoredNames: Set<String> = ["pipeline-stage.json", "pipeline-stage.started.json"]

    public static func checksum(_ url: URL) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw StoreError.notFound(path: url.path, reason: "input is missing")
        }
        guard isDirectory.boolValue else { return try SHA256.hex(ofFile: url) }
        if let manifest = try? StageManifest.read(from: url) {
            struct Content: Encodable {
                var outputs: [StageOutput], artifacts: [StoredArtifact], kind: String, files: [StageFile]?
            }
            // Plain files are hashed as they are on disk now, so a file changed after the stage completed changes the checksum.
            let files = try manifest.files?.map { StageFile(name: $0.name, sha256: try SHA256.hex(ofFile: url.appendingPathComponent($0.name)), bytes: $0.bytes) }
            let content = Content(outputs: manifest.outputs, artifacts: manifest.artifacts, kind: manifest.kind, files: files)
            return SHA256.hex(of: try JSONValue(encoding: content).canonicalJSON())
        }
        var lines = ""
        for relative in try files(url) {
            lines += "\(relative) \(try SHA256.hex(ofFile: url.appendingPathComponent(relative)))\n"
        }
        return SHA256.hex(of: Data(lines.utf8))
    }

    /// Regular files under `directory`, relative, sorted; `ignoredNames` left out.
    public static func files(_ directory: URL) throws -> [String] {
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw StoreError.notFound(path: directory.path, reason: "cannot list the directory's files")
        }
        let base = directory.standardizedFileURL.path + "/"
        var out: [String] = []
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base) else { continue }
            let relative = String(path.dropFirst(base.count))
            if ignoredNames.contains(relative) { continue }
            out.append(relative)
        }
        return out.sorted()
    }

    /// The stage directory `url` is or lies directly in ("<run>/<stage>"), when it has a manifest.
    public static func producer(_ url: URL) -> String? {
        for candidate in [url, url.deletingLastPathComponent()] {
            if let m = try? StageManifest.read(from: candidate) { return "\(m.run)/\(m.stage)" }
        }
        return nil
    }
}
