// ParameterSet, BatchLayout and SeededRNG.
import Foundation
import XCTest
@testable import PlumbTensor

final class ParameterSetTests: XCTestCase {
    func testArenaLayoutLookupAndFlags() throws {
        let params = try ParameterSet([ParameterSpec("a.weight", [2, 3]), ParameterSpec("norm.weight", [3], weightDecay: false),
                                       ParameterSpec("head.weight", [4, 3], trainable: false)])
        XCTAssertEqual(params.names, ["a.weight", "norm.weight", "head.weight"], "insertion order")
        XCTAssertEqual(params.entries.map(\.offset), [0, 6, 9])
        XCTAssertEqual(params.totalCount, 21)
        XCTAssertEqual(params.trainableCount, 9)
        try params.value("norm.weight").fill(2)
        XCTAssertEqual(params.values.base[6], 2, "views write into the arena")
        XCTAssertNil(try params.trainableGradient("head.weight"))
        XCTAssertNotNil(try params.trainableGradient("a.weight"))
        try params.gradient("a.weight").fill(1)
        params.zeroGrad()
        XCTAssertEqual(Reductions.sumOfSquares(try params.gradient("a.weight")), 0)
        XCTAssertThrowsError(try params.value("missing")) { XCTAssertTrue("\($0)".contains("missing")) }
        XCTAssertThrowsError(try ParameterSet([ParameterSpec("x", [1]), ParameterSpec("x", [2])]))
        XCTAssertEqual(params.setTrainable(true) { $0.hasPrefix("head") }, 1)
        XCTAssertEqual(params.trainableCount, 21)
    }
}

final class BatchLayoutTests: XCTestCase {
    func testPackingRestartsPositionsAndNumbersSegments() throws {
        let a = try BatchLayout.Example(tokens: [1, 2, 3], targets: [-1, 3, 4])
        let b = try BatchLayout.Example(tokens: [5, 6], targets: [6, 7])
        let c = try BatchLayout.Example(tokens: [7, 8, 9, 10], targets: [8, 9, 10, 11])
        let packed = try BatchLayout.packed([a, b, c], batchSize: 2, seqLen: 5, padToken: 0)
        XCTAssertEqual(packed.tokens, [1, 2, 3, 5, 6, 7, 8, 9, 10, 0])
        XCTAssertEqual(packed.targets, [-1, 3, 4, 6, 7, 8, 9, 10, 11, -1])
        XCTAssertEqual(packed.positions, [0, 1, 2, 0, 1, 0, 1, 2, 3, 0])
        XCTAssertEqual(packed.segmentIds, [0, 0, 0, 1, 1, 0, 0, 0, 0, -1])
        XCTAssertEqual(packed.spans.map { packed.flatRange(of: $0) }, [0..<3, 3..<5, 5..<9])
        let padded = try BatchLayout.padded([a, b], batchSize: 2, seqLen: 4, padToken: 0)
        XCTAssertEqual(padded.tokens, [1, 2, 3, 0, 5, 6, 0, 0])
        XCTAssertEqual(padded.segmentIds, [0, 0, 0, -1, 0, 0, -1, -1])
    }

    func testBadInputsAreClearErrors() throws {
        let long = try BatchLayout.Example(tokens: [1, 2, 3], targets: [1, 2, 3])
        XCTAssertThrowsError(try BatchLayout.packed([long], batchSize: 1, seqLen: 2, padToken: 0)) { XCTAssertTrue("\($0)".contains("example 0")) }
        XCTAssertThrowsError(try BatchLayout.padded([long, long], batchSize: 1, seqLen: 3, padToken: 0)) { XCTAssertTrue("\($0)".contains("example 1")) }
        XCTAssertThrowsError(try BatchLayout.Example(tokens: [1], targets: []))
        XCTAssertThrowsError(try BatchLayout(batchSize: 1, seqLen: 2, tokens: [1], targets: [1, 1], positions: [0, 1], segmentIds: [0, 0]))
    }
}

final class RNGTests: XCTestCase {
    func testKnownVectors() {
        var x: UInt64 = 0   // SplitMix64 from 0: first output 0xE220A8397B1DCDAF (Vigna's reference splitmix64.c)
        XCTAssertEqual(SeededRNG.splitMix64(&x), 0xE220_A839_7B1D_CDAF)
        var rng = SeededRNG(state: (1, 2, 3, 4))
        // By hand: rotl(2 * 5, 7) * 9 = 1280 * 9 = 11520; then s1 becomes 2 ^ 2 = 0, so the next is 0.
        XCTAssertEqual(rng.next(), 11520)
        XCTAssertEqual(rng.next(), 0)
    }

    func testSameSeedSameStreamAndCodableResume() throws {
        var a = SeededRNG(seed: 42), b = SeededRNG(seed: 42), c = SeededRNG(seed: 43)
        let sa = (0..<5).map { _ in a.next() }
        XCTAssertEqual(sa, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(sa, (0..<5).map { _ in c.next() })
        var restored = try JSONDecoder().decode(SeededRNG.self, from: try JSONEncoder().encode(a))
        XCTAssertEqual((0..<5).map { _ in restored.next() }, (0..<5).map { _ in a.next() })
    }

    func testDistributions() throws {
        var rng = SeededRNG(seed: 7)
        let n = 20000
        let normals = (0..<n).map { _ in rng.normal() }
        let mean = normals.reduce(0, +) / Double(n)
        let std = (normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.03)   // standard error 1/sqrt(20000) = 0.007
        XCTAssertEqual(std, 1, accuracy: 0.03)
        let uniforms = (0..<n).map { _ in rng.uniform() }
        XCTAssertTrue(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(Double(uniforms.reduce(0, +)) / Double(n), 0.5, accuracy: 0.01)
        var counts = [0, 0, 0, 0]
        for _ in 0..<n { counts[try rng.categorical([0.1, 0.2, 0, 0.7])] += 1 }
        XCTAssertEqual(counts[2], 0, "zero weight is never drawn")
        for (i, p) in [0.1, 0.2, 0, 0.7].enumerated() { XCTAssertEqual(Double(counts[i]) / Double(n), p, accuracy: 0.015) }
        XCTAssertThrowsError(try rng.categorical([0, 0]))
        XCTAssertThrowsError(try rng.categorical([1, -1]))
    }
}
