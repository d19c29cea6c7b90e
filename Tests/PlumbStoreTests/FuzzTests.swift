// Fuzz-style: random bytes and mutated shards into the reader, bounded iterations. Every input must
// end in a clean result or a StoreError: no crash, no hang (a deadline bounds the whole test).
import Foundation
import XCTest
@testable import PlumbStore

final class FuzzTests: XCTestCase {
    /// Reads `url` to the end with `decoding`; true if it read cleanly.
    private func consume(_ url: URL, _ decoding: ShardReader.Decoding) -> Bool {
        var options = ShardReader.Options()
        options.maxRecordBytes = 64 << 10
        options.decoding = decoding
        let reader = ShardReader(files: [url], options: options)
        do {
            var n = 0
            while try reader.nextLine() != nil { n += 1; if n > 1_000_000 { XCTFail("runaway record count"); return false } }
            return true
        } catch is StoreError {
            return false
        } catch {
            XCTFail("not a StoreError: \(error)")
            return false
        }
    }

    func testRandomAndMutatedBytesNeverCrashOrHang() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.frameRawBytes = 4 << 10
        let info = try writeSamples(300, to: dir, options: options)[0]
        let original = Array(try Data(contentsOf: dir.appendingPathComponent(info.file)))
        let target = dir.appendingPathComponent("fuzz.jsonl.zst")
        var rng = SplitMix64(seed: 2024)
        let deadline = Date().addingTimeInterval(60)
        var accepted = 0, rejected = 0
        for iteration in 0..<600 {
            var bytes: [UInt8]
            switch iteration % 4 {
            case 0:   // pure random bytes, sometimes behind a valid zstd magic number
                bytes = (0..<rng.below(4096)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if rng.below(2) == 0 { bytes = [0x28, 0xB5, 0x2F, 0xFD] + bytes }
            case 1:   // a few flipped bytes
                bytes = original
                for _ in 0..<(1 + rng.below(8)) { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2:   // cut at a random place, perhaps with junk appended
                bytes = Array(original[0..<rng.below(original.count)])
                if rng.below(2) == 0 { bytes += (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            default:  // a chunk of the file duplicated or removed
                bytes = original
                let a = rng.below(bytes.count), b = min(bytes.count, a + rng.below(512))
                if rng.below(2) == 0 { bytes.insert(contentsOf: bytes[a..<b], at: rng.below(bytes.count)) } else { bytes.removeSubrange(a..<b) }
            }
            try Data(bytes).write(to: target)
            if consume(target, [.streaming, .frames(threads: 1), .frames(threads: 2)][iteration % 3]) { accepted += 1 } else { rejected += 1 }
            XCTAssertLessThan(Date(), deadline, "fuzzing took too long at iteration \(iteration)")
            if Date() > deadline { break }
        }
        XCTAssertGreaterThan(rejected, 500, "damaged inputs must be rejected (accepted \(accepted))")
    }
}
