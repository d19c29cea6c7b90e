// Targets over PlumbStore's readers: the record schema finder and shard files (zstd frames, end
// marker, line reader) in both decoding modes.
import Foundation
@testable import PlumbStore

enum StoreTargets {
    static func schema(_ input: UnsafeRawBufferPointer) {
        if case .found(let schema) = RecordSchema.find(in: input) {
            precondition(RecordSchema.isValid(schema), "found an invalid schema '\(schema)'")
        }
    }

    /// The bytes as a shard file, read to the end (or the first error) line by line.
    static func shard(_ input: UnsafeRawBufferPointer) {
        let url = Scratch.file("fuzz-00000-of-00001.jsonl.zst", input)
        for decoding in [ShardReader.Decoding.frames(threads: 1), .streaming] {
            guard let reader = try? ShardLineReader(url: url, maxRecordBytes: 1 << 16, decoding: decoding) else { continue }
            while let line = try? reader.nextLine() {
                precondition(line.count < 1 << 16, "a line longer than the window")
                _ = RecordSchema.find(in: line)
            }
        }
    }
}
