// Tensor artifacts: any file (a safetensors checkpoint) kept zstd-compressed in a stage directory as
// `<name>.zst`, with SHA-256 of both forms, and exported back to the original bytes on request.
import Foundation

public enum ArtifactStore {
    /// Compresses `source` into `directory/<name>.zst` (written under a temporary name, then renamed).
    public static func store(_ source: URL, name: String, in directory: URL, zstd: ZstdSettings = ZstdSettings()) throws -> StoredArtifact {
        try ShardNaming.validate(name)
        let file = "\(name).zst"
        let temp = directory.appendingPathComponent(".\(file).partial")
        let input = try PosixFile(readingFrom: source)
        defer { input.close() }
        let writer = try ZstdFrameWriter(url: temp, settings: zstd)
        var rawHasher = SHA256()
        var rawBytes = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
                if n == 0 { break }
                try buffer.withUnsafeBytes { chunk in
                    let part = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
                    rawHasher.update(part)
                    try writer.write(part)
                }
                rawBytes += n
            }
            if rawBytes == 0 { try writer.forceEmptyFrame() }
            let sha = try writer.close()
            try AtomicFile.rename(temp, to: directory.appendingPathComponent(file))
            return StoredArtifact(name: name, file: file, sha256: sha, compressedBytes: writer.compressedBytes,
                                  rawSHA256: rawHasher.finalizeHex(), rawBytes: rawBytes)
        } catch {
            unlink(temp.path)
            throw error
        }
    }

    /// Decompresses the artifact in `directory` to `destination` (atomically), checking size and SHA-256
    /// of the result against the manifest's record; returns the bytes written.
    @discardableResult
    public static func export(_ artifact: StoredArtifact, from directory: URL, to destination: URL) throws -> Int {
        let source = directory.appendingPathComponent(artifact.file)
        let temp = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial")
        let (sha, bytes) = try decompress(source, to: temp)
        guard sha == artifact.rawSHA256, bytes == artifact.rawBytes else {
            unlink(temp.path)
            throw StoreError.manifest(path: source.path, reason: "exported bytes do not match the manifest "
                + "(sha256 \(sha) vs \(artifact.rawSHA256), \(bytes) vs \(artifact.rawBytes) bytes)")
        }
        try AtomicFile.rename(temp, to: destination)
        return bytes
    }

    /// Decompresses any zstd file to `destination` (or only hashes it when nil); returns SHA-256 and
    /// size of the decompressed bytes.
    public static func decompress(_ source: URL, to destination: URL?) throws -> (sha256: String, bytes: Int) {
        let reader = try ZstdFrameReader(url: source)
        let output = try destination.map { try PosixFile(creating: $0) }
        var hasher = SHA256()
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0, recordsSoFar: 0) }
                if n == 0 { break }
                try buffer.withUnsafeBytes { chunk in
                    let part = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
                    hasher.update(part)
                    try output?.write(part)
                }
                total += n
            }
            try output?.sync()
            output?.close()
        } catch {
            output?.close()
            if let destination { unlink(destination.path) }
            throw error
        }
        return (hasher.finalizeHex(), total)
    }
}
