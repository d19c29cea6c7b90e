// The vectorised sampling kernels against plain loops: argmax (ties to the lowest id) and the
// inversion of the cumulative sum used to draw a token.
import XCTest
@testable import PlumbModel

final class SamplingKernelTests: XCTestCase {
    func testArgmaxMatchesLoopAndTakesLowestTie() {
        var rng = TestRandom(4)
        for vocab in [1, 7, 8, 9, 100, 32000] {
            var logits = (0..<vocab).map { _ in rng.uniform(10) }
            var best = 0
            for i in 1..<vocab where logits[i] > logits[best] { best = i }
            XCTAssertEqual(TokenSampler.argmax(logits, vocab), Int32(best), "vocab \(vocab)")
            if vocab > 3 {   // a tie later in the array keeps the first
                logits[vocab - 1] = logits[best]
                XCTAssertEqual(TokenSampler.argmax(logits, vocab), Int32(best), "tie, vocab \(vocab)")
                logits[vocab / 2] = logits[best] + 1
                XCTAssertEqual(TokenSampler.argmax(logits, vocab), Int32(vocab / 2), "new max, vocab \(vocab)")
            }
        }
    }

    /// The block-skipping inversion returns the index of a sequential scan, except where the target
    /// lies within float rounding (1e-5 of the total mass) of a cumulative boundary.
    func testInvertCumulativeMatchesSequentialScan() {
        var rng = TestRandom(5)
        for vocab in [5, 64, 65, 1000, 32000] {
            let p = (0..<vocab).map { _ in abs(rng.uniform(1)) * (rng.next() % 10 == 0 ? 50 : 1) }
            var prefix = [Double](repeating: 0, count: vocab)
            var running = 0.0
            for i in 0..<vocab { running += Double(p[i]); prefix[i] = running }
            for _ in 0..<500 {
                let target = Float(Double(abs(rng.uniform(1))) * running)
                let fast = Int(TokenSampler.invertCumulative(p, vocab, target: target))
                let exact = prefix.firstIndex { $0 > Double(target) } ?? vocab - 1
                if fast != exact {
                    let boundary = prefix[min(fast, exact)]
                    XCTAssertLessThan(abs(boundary - Double(target)), 1e-5 * running, "vocab \(vocab) target \(target): \(fast) vs \(exact)")
                }
            }
        }
    }
}
