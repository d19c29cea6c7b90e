import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

/// The 8-bit matrix-vector kernel (MatVec.Q8) and its quantisation.
final class Q8MatVecTests: XCTestCase {
    func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededRNG(seed: seed)
        let t = Tensor(zeros: shape)
        for i in 0..<t.count { t.pointer[i] = scale * Float(rng.normal()) }
        return t
    }

    /// Q8_0 as ggml's reference computes it, on a hand-made block: d = fp16(max|x| / 127),
    /// q = round(x / d) with halves away from zero; the largest value maps to +-127.
    func testQuantisedBlockMatchesGGMLReference() throws {
        var x = (0..<32).map { Float($0) - 12.7 }
        x[5] = -63.5   // max |x|: d = 0.5 -> q = -127
        x[6] = 0.25    // x / d = 0.5: rounds away from zero to 1
        x[7] = -0.25   // to -1
        let w = try Tensor(shape: [1, 32], values: x)
        let q = try Q8Matrix(quantising: w)
        XCTAssertEqual(q.scales[0], Float(Float16(63.5 / 127)))
        XCTAssertEqual(q.scales[0], 0.5)
        XCTAssertEqual(q.quants[5], -127)
        XCTAssertEqual(q.quants[6], 1)
        XCTAssertEqual(q.quants[7], -1)
        for j in 0..<32 where ![5, 6, 7].contains(j) { XCTAssertEqual(q.quants[j], Int8((x[j] / 0.5).rounded()), "value \(j)") }
        let zero = try Q8Matrix(quantising: Tensor(zeros: [2, 64]))
        XCTAssertEqual(zero.dequantisedRow(1), [Float](repeating: 0, count: 64))
        XCTAssertThrowsError(try Q8Matrix(quantising: Tensor(zeros: [2, 40])))
    }

    /// Each dequantised weight lies within half a step (d / 2) plus the fp16 rounding of the scale
    /// (|q| * |d - fp16(d)|, at most 127 * 2^-11 * d) of the original.
    func testDequantisedWeightsWithinHalfAStep() throws {
        let w = randomTensor([8, 96], seed: 3)
        let q = try Q8Matrix(quantising: w)
        for o in 0..<8 {
            let row = q.dequantisedRow(o)
            for i in 0..<96 {
                let block = (0..<32).map { abs(w.pointer[o * 96 + i / 32 * 32 + $0]) }.max()!
                let d = block / 127
                XCTAssertLessThanOrEqual(abs(row[i] - w.pointer[o * 96 + i]), d / 2 + 127 * d / 2048 + 1e-7, "(\(o), \(i))")
            }
        }
    }

    /// The kernel against Double accumulation of d q x: within 1e-5 of sum |d q x| per output (fp32
    /// rounding of a k-term sum is below k * 2^-24 of that sum), for both row paths, accumulate or not.
    func testKernelMatchesReference() throws {
        for (k, out) in [(32, 5), (64, 9), (288, 33), (768, 17)] {
            let w = try Q8Matrix(quantising: randomTensor([out, k], seed: UInt64(k)))
            for n in [1, 2, 3, 4, 5, 8, 67] {
                let x = randomTensor([n, k], seed: UInt64(n * 7))
                for accumulate in [false, true] {
                    let fast = randomTensor([n, out], seed: 9), slow = try Tensor(shape: [n, out], values: Array(fast.buffer))
                    MatVec.Q8.kernel(weight: w, x: x.pointer, rows: n, y: fast.pointer, ldy: out, outputs: 1..<out, accumulate: accumulate)
                    MatVec.Q8.reference(weight: w, x: x.pointer, rows: n, y: slow.pointer, ldy: out, outputs: 1..<out, accumulate: accumulate)
                    for r in 0..<n {
                        XCTAssertEqual(fast.pointer[r * out], slow.pointer[r * out], "output 0 is outside the range and untouched")
                        for o in 1..<out {
                            var magnitude = 0.0
                            for i in 0..<k { magnitude += abs(Double(w.scales[(o * k + i) / 32] * Float(w.quants[o * k + i])) * Double(x.pointer[r * k + i])) }
                            XCTAssertLessThanOrEqual(abs(Double(fast.pointer[r * out + o]) - Double(slow.pointer[r * out + o])),
                                                     1e-5 * (magnitude + (accumulate ? 4 : 0)), "k \(k) n \(n) (\(r), \(o))")
                        }
                    }
                }
            }
        }
    }

    /// A row's outputs are bit-identical decoded alone, in a batch of 7 (the 2 x 2 path) and under any
    /// split of the outputs: the engine's rule that a sequence's tokens do not depend on its batch.
    func testRowIsBitIdenticalAloneAndBatched() throws {
        let k = 288, out = 41, n = 7
        let w = try Q8Matrix(quantising: randomTensor([out, k], seed: 21))
        let x = randomTensor([n, k], seed: 22)
        let batched = Tensor(zeros: [n, out]), alone = Tensor(zeros: [n, out]), split = Tensor(zeros: [n, out])
        MatVec.Q8.kernel(weight: w, x: x.pointer, rows: n, y: batched.pointer, ldy: out, outputs: 0..<out, accumulate: false)
        for r in 0..<n {
            MatVec.Q8.kernel(weight: w, x: x.pointer + r * k, rows: 1, y: alone.pointer + r * out, ldy: out, outputs: 0..<out, accumulate: false)
        }
        for range in [0..<3, 3..<4, 4..<30, 30..<41] {
            MatVec.Q8.kernel(weight: w, x: x.pointer, rows: n, y: split.pointer, ldy: out, outputs: range, accumulate: false)
        }
        XCTAssertEqual(Array(batched.buffer), Array(alone.buffer))
        XCTAssertEqual(Array(batched.buffer), Array(split.buffer))
    }

    /// Each weight d * q is exact in fp32 and the additions follow MatVec.kernel's order, so the 8-bit
    /// kernel gives the fp32 kernel's bits on the dequantised weights, on both row paths.
    func testKernelEqualsF32KernelOnDequantisedWeights() throws {
        let k = 288, out = 13
        let q = try Q8Matrix(quantising: randomTensor([out, k], seed: 61))
        let dequantised = try Tensor(shape: [out, k], values: (0..<out).flatMap { q.dequantisedRow($0) })
        for n in [1, 2, 3, 5, 8, 65] {
            let x = randomTensor([n, k], seed: UInt64(70 + n))
            let a = Tensor(zeros: [n, out]), b = Tensor(zeros: [n, out])
            MatVec.Q8.kernel(weight: q, x: x.pointer, rows: n, y: a.pointer, ldy: out, outputs: 0..<out, accumulate: false)
            MatVec.kernel(weight: dequantised.pointer, inFeatures: k, x: x.pointer, rows: n, y: b.pointer, ldy: out, outputs: 0..<out, accumulate: false)
            XCTAssertEqual(Array(a.buffer), Array(b.buffer), "n \(n)")
        }
    }

    /// Pooled product groups mixing q8 and fp32 weights, few rows and more than kernelRows rows.
    func testProductsMixingQ8AndF32() throws {
        let k = 64
        let wq = randomTensor([50, k], seed: 31), wf = randomTensor([20, k], seed: 32)
        let q = try Q8Matrix(quantising: wq)
        for n in [1, 3, MatVec.kernelRows + 5] {
            let x = randomTensor([n, k], seed: 33)
            let yq = Tensor(zeros: [n, 50]), yf = Tensor(zeros: [n, 20]), refQ = Tensor(zeros: [n, 50]), refF = Tensor(zeros: [n, 20])
            MatVec.products(x: x.pointer, rows: n, inFeatures: k, [MatVec.Product(q8: q, out: yq.pointer),
                                                                     MatVec.Product(weight: wf.pointer, out: yf.pointer, outFeatures: 20)])
            MatVec.Q8.kernel(weight: q, x: x.pointer, rows: n, y: refQ.pointer, ldy: 50, outputs: 0..<50, accumulate: false)
            MatVec.reference(weight: wf.pointer, inFeatures: k, x: x.pointer, rows: n, y: refF.pointer, ldy: 20, outputs: 0..<20, accumulate: false)
            XCTAssertEqual(Array(yq.buffer), Array(refQ.buffer), "n \(n): the pool runs the same kernel per chunk")
            for i in 0..<n * 20 { XCTAssertEqual(yf.pointer[i], refF.pointer[i], accuracy: 1e-4, "n \(n) fp32 output \(i)") }
        }
    }
}
