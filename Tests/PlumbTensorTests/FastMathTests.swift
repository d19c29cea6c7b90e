import Foundation
import XCTest
@testable import PlumbTensor

final class FastMathTests: XCTestCase {
    /// exp8 against Double exp over [-87, 88]: relative error under 4 Float ulps (4 * 2^-23 = 4.8e-7).
    func testExpIsAccurateOverTheFloatRange() {
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0123 })
            let fast = FastMath.exp8(lanes)
            for i in 0..<8 {
                let exact = Foundation.exp(Double(lanes[i]))
                worst = max(worst, abs(Double(fast[i]) - exact) / exact)
            }
            x += 0.0987
        }
        XCTAssertLessThan(worst, 4.8e-7, "worst relative error \(worst)")
        XCTAssertEqual(FastMath.exp(0), 1)
        XCTAssertEqual(FastMath.sigmoid(0), 0.5, accuracy: 1e-7)
    }

    /// Below -87 e^x is subnormal (Foundation's exp gives < 1.7e-38): the fast exp gives exactly 0,
    /// an absolute error under 1.7e-38, and -infinity gives 0, so masked logits drop out of a softmax.
    func testExpFlushesTheSubnormalRangeToZero() {
        for x: Float in [-87.01, -88, -95, -103, -150, -1e10, -.infinity] {
            XCTAssertEqual(FastMath.exp8(SIMD8<Float>(repeating: x))[5], 0, "exp(\(x))")
            XCTAssertLessThan(Foundation.exp(Double(x)), 1.7e-38)
        }
        XCTAssertGreaterThan(FastMath.exp(-87), 0, "-87 itself is still in range")
        let row: [Float] = [0, -.infinity, 1, -.infinity]
        var out = [Float](repeating: -1, count: 4)
        let total = FastMath.expShifted(row, &out, 4, shift: 1)
        XCTAssertEqual(out[1], 0); XCTAssertEqual(out[3], 0)
        XCTAssertEqual(Double(total), Foundation.exp(-1.0) + 1, accuracy: 1e-6)
    }

    func testRowPrimitivesMatchScalarLoopsOnOddLengths() {
        var rng = SeededRNG(seed: 70)
        for n in [1, 7, 8, 9, 31, 1000] {
            let x = randomTensor([n], &rng, std: 3), y = Tensor(zeros: [n])
            let m = FastMath.max(x.pointer, n)
            XCTAssertEqual(m, x.array.max()!)
            let total = FastMath.expShifted(x.pointer, y.pointer, n, shift: m)
            let expected = x.array.map { Foundation.exp(Double($0 - m)) }
            XCTAssertEqual(Double(total), expected.reduce(0, +), accuracy: 1e-5 * Double(n))
            for i in 0..<n { XCTAssertEqual(Double(y.pointer[i]), expected[i], accuracy: 1e-6) }
            XCTAssertEqual(Double(FastMath.logSumExp(x.pointer, n)), Double(m) + Foundation.log(expected.reduce(0, +)), accuracy: 1e-5)
        }
    }
}
