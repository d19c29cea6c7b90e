// SHA-256 against the FIPS 180-4 / NIST example vectors and against `sha256sum`.
import Foundation
import XCTest
@testable import PlumbStore

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testStreamingInPiecesEqualsOneShot() {
        var rng = SplitMix64(seed: 5)
        let bytes = (0..<10_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var hasher = SHA256()
        var i = 0
        while i < bytes.count {
            let n = min(1 + rng.below(130), bytes.count - i)
            hasher.update(Array(bytes[i..<(i + n)]))
            i += n
        }
        XCTAssertEqual(hasher.finalizeHex(), SHA256.hex(of: Data(bytes)))
    }

    func testMatchesSha256sum() throws {
        guard let tool = findTool("sha256sum") else { throw XCTSkip("sha256sum is not installed") }
        let dir = try makeScratchDirectory(self)
        var rng = SplitMix64(seed: 9)
        for size in [0, 55, 56, 63, 64, 65, 119, 120, 1 << 20, (1 << 20) + 17] {
            let url = dir.appendingPathComponent("f\(size)")
            try Data((0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).write(to: url)
            let (status, out, _) = try runProcess(tool, [url.path])
            XCTAssertEqual(status, 0)
            let expected = String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init)
            XCTAssertEqual(try SHA256.hex(ofFile: url), expected, "size \(size)")
        }
    }
}
