// Temperature, top-k and top-p against an independent Double reference of Hugging Face's order:
// softmax(z / T), keep the k most probable, then the nucleus within the top-k mass, renormalise,
// invert the cumulative sum at u. Crafted distributions where measuring the nucleus against the whole
// vocabulary's mass (instead of the top-k mass) keeps a different set.
import XCTest
@testable import PlumbModel

final class SamplingSemanticsTests: XCTestCase {
    /// The kept tokens, most probable first (ties to the lower id), with their renormalised probabilities.
    static func reference(_ logits: [Float], temperature: Double, topK: Int, topP: Double) -> [(token: Int32, p: Double)] {
        let z = logits.map { Double($0) / temperature }
        let top = z.max()!
        let e = z.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        let order = e.indices.sorted { e[$0] != e[$1] ? e[$0] > e[$1] : $0 < $1 }
        let k = topK > 0 ? min(topK, e.count) : e.count
        let topk = Array(order.prefix(k))
        let topkMass = topk.reduce(0.0) { $0 + e[$1] / sum }
        var kept: [Int] = []
        var mass = 0.0
        for i in topk {
            kept.append(i)
            mass += e[i] / sum
            if topP < 1 && mass >= topP * topkMass { break }
        }
        let keptMass = kept.reduce(0.0) { $0 + e[$1] }
        return kept.map { (Int32($0), e[$0] / keptMass) }
    }

    /// Every u on a grid draws the reference's token, except within 1e-5 of a cumulative boundary.
    func check(_ logits: [Float], temperature: Float, topK: Int, topP: Float, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = Self.reference(logits, temperature: Double(temperature), topK: topK, topP: Double(topP))
        var sampler = TokenSampler(vocabSize: logits.count)
        var drawn = Set<Int32>()
        for step in 0..<2000 {
            let u = Float(step) / 2000
            let token = logits.withUnsafeBufferPointer {
                sampler.draw($0.baseAddress!, vocab: logits.count, temperature: temperature, topK: topK, topP: topP, u: u)
            }
            drawn.insert(token)
            var cumulative = 0.0
            var want = expected.last!.token
            var nearest = Double.infinity
            for (t, p) in expected {
                cumulative += p
                nearest = min(nearest, abs(cumulative - Double(u)))
                if cumulative > Double(u) { want = t; break }
            }
            if token != want {
                XCTAssertLessThan(nearest, 1e-5, "\(label): u \(u) drew \(token), the reference \(want)", file: file, line: line)
            }
        }
        XCTAssertEqual(drawn, Set(expected.map(\.token)), "\(label): the tokens that can be drawn", file: file, line: line)
    }

    /// p = [0.30, 0.20, 0.10, 0.10, 0.05 x 6] (logits are log p). Top-k 3 holds 0.6; top-p 0.8 of that
    /// (0.48) keeps 2 tokens. Against the whole mass (0.8 of 1.0) all three would stay.
    func testNucleusIsMeasuredWithinTheTopKMass() {
        let p: [Float] = [0.30, 0.20, 0.10, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]
        let logits = p.map { log($0) }
        XCTAssertEqual(Self.reference(logits, temperature: 1, topK: 3, topP: 0.8).map(\.token), [0, 1])
        check(logits, temperature: 1, topK: 3, topP: 0.8, "top-k 3, top-p 0.8")
        check(logits, temperature: 1, topK: 0, topP: 0.55, "top-p 0.55 alone")
        check(logits, temperature: 1, topK: 4, topP: 1, "top-k 4 alone (a tie at the cut goes to the lower id)")
        check(logits, temperature: 0.5, topK: 5, topP: 0.9, "temperature 0.5 before top-k and top-p")
        check(logits, temperature: 2, topK: 0, topP: 1, "temperature 2 alone")
    }

    /// Ties and a shuffled order: the larger ids of equal probability are cut first.
    func testTiesAndUnsortedLogits() {
        let logits: [Float] = [0.1, 2, 0.1, 2, 1, 1, 1, -3, 2, 0.1]
        check(logits, temperature: 1, topK: 2, topP: 1, "top-k 2 among three ties")
        check(logits, temperature: 1, topK: 5, topP: 0.6, "top-k 5, top-p 0.6")
        check(logits, temperature: 0.7, topK: 0, topP: 0.95, "top-p 0.95")
    }

    /// A vocabulary larger than the insertion path's 64 and a k above it (the sorting path).
    func testLargeVocabularyBothSelectionPaths() {
        var rng = TestRandom(21)
        let logits = (0..<1000).map { _ in rng.uniform(4) }
        check(logits, temperature: 0.8, topK: 50, topP: 0.7, "k 50 of 1000")
        check(logits, temperature: 0.8, topK: 200, topP: 0.7, "k 200 of 1000")
        check(logits, temperature: 0.8, topK: 0, topP: 0.3, "top-p 0.3 of 1000")
        check(logits, temperature: 0.8, topK: 1, topP: 1, "k 1 is greedy")
    }

    /// The inversion never lands on a token of zero probability, even when rounding leaves the
    /// target above the running sum.
    func testInversionFallsBackToTheLastPossibleToken() {
        let p: [Float] = [0.25, 0.5, 0.25, 0, 0, 0, 0, 0]
        XCTAssertEqual(TokenSampler.invertCumulative(p, p.count, target: 1.0), 2)
        XCTAssertEqual(TokenSampler.invertCumulative(p, p.count, target: 0.3), 1)
        var long = [Float](repeating: 0, count: 200)
        long[70] = 1
        XCTAssertEqual(TokenSampler.invertCumulative(long, long.count, target: 1.5), 70)
    }
}
