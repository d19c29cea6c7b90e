import XCTest
@testable import PlumbTensor

final class EmbeddingRoPETests: XCTestCase {
    func testEmbeddingGatherAndScatterAddWithRepeatedTokens() throws {
        var rng = SeededRNG(seed: 40)
        let table = randomTensor([6, 4], &rng), tokens: [Int32] = [2, 5, 2, 0], r = randomTensor([4, 4], &rng)
        let out = Tensor(zeros: [1, 4, 4])
        try Embedding.forward(table: table, tokens: tokens, out: out)
        XCTAssertEqual(try out.reshaped([4, 4]).row(2).array, try table.row(2).array)
        let dTable = Tensor(zeros: table.shape)
        try Embedding.backward(dOut: r, tokens: tokens, dTable: dTable)
        try assertGradientMatches("embedding dTable", input: table, analytic: dTable) {
            try Embedding.forward(table: table, tokens: tokens, out: out); return weightedSum(out, r)
        }
        XCTAssertThrowsError(try Embedding.forward(table: table, tokens: [1, 6, 0, 0], out: out)) {
            XCTAssertTrue("\($0)".contains("position 1"), "\($0)")
        }
    }

    /// Many positions (columns split across threads) with repeated tokens: each table row gets the
    /// Double sum of its positions' gradients, and a bad token is named before anything is added.
    func testEmbeddingBackwardOverManyPositionsMatchesDoubleSums() throws {
        let vocab = 50, width = 96, count = 1000
        var rng = SeededRNG(seed: 43)
        let tokens: [Int32] = (0..<count).map { Int32(($0 * 7) % vocab) }
        let dOut = randomTensor([count, width], &rng), dTable = Tensor(zeros: [vocab, width])
        try Embedding.backward(dOut: dOut, tokens: tokens, dTable: dTable)
        var expected = [Double](repeating: 0, count: vocab * width)
        for n in 0..<count { for c in 0..<width { expected[Int(tokens[n]) * width + c] += Double(dOut.pointer[n * width + c]) } }
        for i in 0..<expected.count { XCTAssertEqual(Double(dTable.pointer[i]), expected[i], accuracy: 1e-4) }
        let before = dTable.array
        XCTAssertThrowsError(try Embedding.backward(dOut: dOut, tokens: tokens.dropLast() + [Int32(vocab)], dTable: dTable)) {
            XCTAssertTrue("\($0)".contains("position \(count - 1)"), "\($0)")
        }
        XCTAssertEqual(dTable.array, before, "nothing added when a token is invalid")
    }

    /// Independent references in Double: Meta's complex product for adjacent pairs, HF's
    /// x * cos + rotate_half(x) * sin for halves.
    func reference(_ x: [Double], position p: Int, theta: Double, layout: RoPELayout) -> [Double] {
        let d = x.count, half = d / 2
        let freq = (0..<half).map { pow(theta, -2 * Double($0) / Double(d)) }
        var y = x
        switch layout {
        case .adjacentPairs:
            for i in 0..<half {
                let re = x[2 * i], im = x[2 * i + 1], c = cos(Double(p) * freq[i]), s = sin(Double(p) * freq[i])
                y[2 * i] = re * c - im * s; y[2 * i + 1] = re * s + im * c
            }
        case .halves:
            let rotated = (0..<d).map { $0 < half ? -x[$0 + half] : x[$0 - half] }
            for j in 0..<d { let a = Double(p) * freq[j % half]; y[j] = x[j] * cos(a) + rotated[j] * sin(a) }
        }
        return y
    }

    func testBothLayoutsMatchReferencesAndFiniteDifferences() throws {
        let positions: [Int32] = [0, 1, 2, 0, 1, 7]   // two packed examples: positions restart
        let table = try RoPETable(headDim: 8, maxPositions: 16, theta: 500)
        for layout in RoPELayout.allCases {
            var rng = SeededRNG(seed: 41)
            let x = randomTensor([1, 6, 3, 8], &rng), r = randomTensor([1, 6, 3, 8], &rng), out = Tensor(zeros: x.shape)
            try RoPE.forward(x: x, positions: positions, table: table, layout: layout, out: out)
            for n in 0..<6 {
                for h in 0..<3 {
                    let base = (n * 3 + h) * 8
                    let expected = reference((0..<8).map { Double(x.pointer[base + $0]) }, position: Int(positions[n]), theta: 500, layout: layout)
                    for j in 0..<8 { XCTAssertEqual(Double(out.pointer[base + j]), expected[j], accuracy: 1e-5, "\(layout) token \(n) head \(h)") }
                }
            }
            let dx = Tensor(zeros: x.shape)
            try RoPE.backward(dOut: r, positions: positions, table: table, layout: layout, dx: dx)
            try assertGradientMatches("rope \(layout) dx", input: x, analytic: dx) {
                try RoPE.forward(x: x, positions: positions, table: table, layout: layout, out: out); return weightedSum(out, r)
            }
            let inPlace = x.copy()   // in place gives the same bits
            try RoPE.forward(x: inPlace, positions: positions, table: table, layout: layout, out: inPlace)
            try RoPE.forward(x: x, positions: positions, table: table, layout: layout, out: out)
            XCTAssertEqual(inPlace.array, out.array)
        }
    }

    /// Enough tokens for the rotation to be split across threads: every token still matches the
    /// reference, and backward (the inverse rotation) brings forward's output back to x.
    func testManyTokensMatchReferenceAndBackwardInvertsForward() throws {
        let tokens = 600, heads = 4, d = 32
        let positions: [Int32] = (0..<tokens).map { Int32($0 % 250) }   // packed examples of 250 tokens
        let table = try RoPETable(headDim: d, maxPositions: 256)
        for layout in RoPELayout.allCases {
            var rng = SeededRNG(seed: 42)
            let x = randomTensor([tokens, heads, d], &rng), out = Tensor(zeros: x.shape), back = Tensor(zeros: x.shape)
            try RoPE.forward(x: x, positions: positions, table: table, layout: layout, out: out)
            for n in [0, 1, 249, 250, 377, 599] {
                for h in 0..<heads {
                    let base = (n * heads + h) * d
                    let expected = reference((0..<d).map { Double(x.pointer[base + $0]) }, position: Int(positions[n]), theta: 10000, layout: layout)
                    for j in 0..<d { XCTAssertEqual(Double(out.pointer[base + j]), expected[j], accuracy: 1e-4, "\(layout) token \(n) head \(h)") }
                }
            }
            try RoPE.backward(dOut: out, positions: positions, table: table, layout: layout, dx: back)
            assertClose(back, x, atol: 1e-5, rtol: 1e-5, "\(layout): backward of forward")
        }
    }

    func testRoPERejectsBadPositions() throws {
        let table = try RoPETable(headDim: 4, maxPositions: 4)
        let x = Tensor(zeros: [2, 1, 4])
        XCTAssertThrowsError(try RoPE.forward(x: x, positions: [0, 4], table: table, layout: .halves, out: x)) {
            XCTAssertTrue("\($0)".contains("token 1"), "\($0)")
        }
        XCTAssertThrowsError(try RoPE.forward(x: x, positions: [0, 1, 2], table: table, layout: .halves, out: x))
        XCTAssertThrowsError(try RoPETable(headDim: 5, maxPositions: 4))
    }
}
