import XCTest
@testable import PlumbTensor

final class SoftmaxCrossEntropyTests: XCTestCase {
    func testSoftmaxAndLogSoftmaxMatchFiniteDifferences() throws {
        var rng = SeededRNG(seed: 30)
        let x = randomTensor([4, 9], &rng, std: 2), r = randomTensor([4, 9], &rng), y = Tensor(zeros: [4, 9])
        try Softmax.forward(x, into: y)
        for n in 0..<4 {   // exp(x_i) / sum exp(x_j), in Double
            let row = (0..<9).map { exp(Double(x.pointer[n * 9 + $0])) }, total = row.reduce(0, +)
            for i in 0..<9 { XCTAssertEqual(Double(y.pointer[n * 9 + i]), row[i] / total, accuracy: 1e-6) }
        }
        let dx = Tensor(zeros: x.shape)
        try Softmax.backward(dOut: r, out: y, dx: dx)
        try assertGradientMatches("softmax dx", input: x, analytic: dx) { try Softmax.forward(x, into: y); return weightedSum(y, r) }

        try Softmax.logForward(x, into: y)
        let dlx = Tensor(zeros: x.shape)
        try Softmax.logBackward(dOut: r, out: y, dx: dlx)
        try assertGradientMatches("log-softmax dx", input: x, analytic: dlx) { try Softmax.logForward(x, into: y); return weightedSum(y, r) }
    }

    func testLargeRowsSplitAcrossThreadsGiveTheSameBits() throws {
        var rng = SeededRNG(seed: 31)
        let x = randomTensor([64, 4000], &rng, std: 3), y = Tensor(zeros: x.shape)
        try Softmax.forward(x, into: y)   // 256k entries: split across cores
        let row = Tensor(zeros: [4000])
        for n in [0, 31, 63] {
            try Softmax.forward(try x.row(n), into: row)   // one row: inline
            XCTAssertEqual(row.array, try y.row(n).array, "row \(n)")
        }
    }

    let targets: [Int32] = [3, -1, 0, 6, -1, 2]

    func testMeanLossIgnoresMaskedRowsAndMatchesDoubleReference() throws {
        var rng = SeededRNG(seed: 32)
        let logits = randomTensor([2, 3, 7], &rng, std: 2), dLogits = Tensor(zeros: logits.shape)
        let (loss, tokens) = try CrossEntropy.meanLoss(logits: logits, targets: targets, dLogits: dLogits)
        XCTAssertEqual(tokens, 4)
        var expected = 0.0
        for (r, t) in targets.enumerated() where t >= 0 {
            let row = (0..<7).map { Double(logits.pointer[r * 7 + $0]) }
            expected += log(row.map(exp).reduce(0, +)) - row[Int(t)]
        }
        XCTAssertEqual(Double(loss), expected / 4, accuracy: 1e-5)
        for r in [1, 4] { for i in 0..<7 { XCTAssertEqual(dLogits.pointer[r * 7 + i], 0, "ignored row \(r) has no gradient") } }
        try assertGradientMatches("cross-entropy dlogits", input: logits, analytic: dLogits, atol: 1e-4) {
            Double(try CrossEntropy.meanLoss(logits: logits, targets: self.targets).loss)
        }
        // A divisor and a scale: gradient of scale * sum / divisor.
        let scaled = Tensor(zeros: logits.shape)
        let (sumLoss, _) = try CrossEntropy.meanLoss(logits: logits, targets: targets, dLogits: scaled, gradScale: 3, divisor: 8)
        XCTAssertEqual(Double(sumLoss), expected / 8, accuracy: 1e-5)
        for i in 0..<scaled.count { XCTAssertEqual(scaled.pointer[i], dLogits.pointer[i] * 3 * 4 / 8, accuracy: 1e-6) }
    }

    func testTargetLogProbsAndBackward() throws {
        var rng = SeededRNG(seed: 33)
        let logits = randomTensor([6, 7], &rng, std: 2), weights = randomTensor([6], &rng)
        let lp = Tensor(zeros: [6])
        try CrossEntropy.targetLogProbs(logits: logits, targets: targets, into: lp)
        XCTAssertEqual(lp.pointer[1], 0); XCTAssertEqual(lp.pointer[4], 0)
        let (loss, _) = try CrossEntropy.meanLoss(logits: logits, targets: targets)
        XCTAssertEqual(-Reductions.sum(lp) / 4, loss, accuracy: 1e-5, "mean NLL = -mean log p(target)")
        let dLogits = Tensor(zeros: logits.shape)
        try CrossEntropy.targetLogProbsBackward(logits: logits, targets: targets, dLogProbs: weights, dLogits: dLogits)
        try assertGradientMatches("target log-prob dlogits", input: logits, analytic: dLogits) {
            try CrossEntropy.targetLogProbs(logits: logits, targets: self.targets, into: lp); return weightedSum(lp, weights)
        }
    }

    /// c_r = log p(t_r) + H_r against a Double reference; its gradient against finite differences;
    /// ignored rows give 0 and no gradient.
    func testCentredLogProbsMatchDoubleReferenceAndFiniteDifferences() throws {
        var rng = SeededRNG(seed: 34)
        let logits = randomTensor([6, 7], &rng, std: 2), weights = randomTensor([6], &rng)
        let c = Tensor(zeros: [6])
        try CentredLogProbs.forward(logits: logits, targets: targets, into: c)
        for (r, t) in targets.enumerated() {
            guard t >= 0 else { XCTAssertEqual(c.pointer[r], 0, "ignored row \(r)"); continue }
            let row = (0..<7).map { Double(logits.pointer[r * 7 + $0]) }
            let lse = log(row.map(exp).reduce(0, +))
            let entropy = -row.map { exp($0 - lse) * ($0 - lse) }.reduce(0, +)
            XCTAssertEqual(Double(c.pointer[r]), row[Int(t)] - lse + entropy, accuracy: 1e-5, "row \(r)")
        }
        let dLogits = Tensor(zeros: logits.shape)
        try CentredLogProbs.backward(logits: logits, targets: targets, dOut: weights, dLogits: dLogits)
        for r in [1, 4] { for i in 0..<7 { XCTAssertEqual(dLogits.pointer[r * 7 + i], 0, "ignored row \(r) has no gradient") } }
        try assertGradientMatches("centred log-prob dlogits", input: logits, analytic: dLogits) {
            try CentredLogProbs.forward(logits: logits, targets: self.targets, into: c); return weightedSum(c, weights)
        }
        // A token drawn from the model's own distribution scores 0 on average: sum_t p_t c(t) = 0.
        let row = Tensor(zeros: [7, 7]), p = Tensor(zeros: [7])
        for t in 0..<7 { (row.pointer + t * 7).update(from: logits.pointer, count: 7) }
        let all = Tensor(zeros: [7])
        try CentredLogProbs.forward(logits: row, targets: (0..<7).map(Int32.init), into: all)
        try Softmax.forward(try logits.row(0), into: p)
        XCTAssertEqual(Double(weightedSum(all, p)), 0, accuracy: 1e-5, "expectation under the row's own distribution")
    }

    func testBadTargetsAreClearErrors() {
        let logits = Tensor(zeros: [2, 5])
        XCTAssertThrowsError(try CrossEntropy.meanLoss(logits: logits, targets: [1, 5])) {
            XCTAssertTrue("\($0)".contains("row 1"), "\($0)")
        }
        XCTAssertThrowsError(try CrossEntropy.meanLoss(logits: logits, targets: [1, -2]))
        XCTAssertThrowsError(try CrossEntropy.meanLoss(logits: logits, targets: [1]))
    }
}
