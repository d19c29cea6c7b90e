// bf16 rounding (BFloat16) against a naive reference written from IEEE 754's definition (the two bf16
// neighbours of x compared in Double, ties to the even one, overflow past half an ulp above the
// largest finite value to inf); widening exact for every one of the 65,536 bit patterns; the bf16
// matrix-vector kernel (MatVec.BF16) against the fp32 kernel on the widened weights, bit for bit.
import XCTest
@testable import PlumbTensor

final class BFloat16Tests: XCTestCase {
    /// IEEE round-to-nearest-even to bf16, by comparing the two neighbours of |x| in Double.
    func naiveRound(_ x: Float) -> UInt16 {
        if x.isNaN { return UInt16(x.bitPattern >> 16) | 0x0040 }   // quiet NaN, sign and top payload kept
        let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
        let below = UInt16(abs(x).bitPattern >> 16)                 // the largest bf16 magnitude <= |x|
        let lo = Double(Float(bitPattern: UInt32(below) << 16)), a = Double(abs(x))
        if a == lo { return sign | below }
        let above = below + 1
        // Past the largest finite bf16, the next "value" for rounding purposes is 2^128 (IEEE 754 7.4).
        let hi = above == 0x7F80 ? 0x1p128 : Double(Float(bitPattern: UInt32(above) << 16))
        let (dLo, dHi) = (a - lo, hi - a)
        let pick = dLo < dHi ? below : dLo > dHi ? above : (below & 1 == 0 ? below : above)
        return sign | pick
    }

    func testRoundingMatchesTheNaiveReference() {
        var special: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, .ulpOfOne,
                                Float(bitPattern: 0x3F80_8000),   // 1 + 2^-8: a tie between 1 and 1 + 2^-7, to 1 (even)
                                Float(bitPattern: 0x3F81_8000),   // a tie between 1 + 2^-7 (odd) and 1 + 2^-6, to the latter
                                Float(bitPattern: 0x3F80_8001), Float(bitPattern: 0x3F80_7FFF),
                                Float(bitPattern: 0x7F7F_8000),   // a tie at the top: to inf (even exponent carry)
                                Float(bitPattern: 0x7F7F_7FFF),   // just below it: the largest finite bf16
                                Float(bitPattern: 0x0000_8000), Float(bitPattern: 0x0001_8000), Float(bitPattern: 0x0000_C000),
                                Float(bitPattern: 0x007F_FFFF),   // the largest subnormal: rounds up to the smallest normal
                                Float.nan, -Float.nan, Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFC1_2345)]
        var rng = SeededRNG(seed: 7)
        for _ in 0..<200_000 { special.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for x in special {
            XCTAssertEqual(BFloat16.round(x), naiveRound(x), "x bits \(String(x.bitPattern, radix: 16))")
            if x.isNaN { XCTAssertTrue(BFloat16.float(BFloat16.round(x)).isNaN) }
        }
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x3F80_8000)), 0x3F80)
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x3F81_8000)), 0x3F82)
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x7F7F_8000)), 0x7F80)
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x0000_8000)), 0x0000)   // a tie between 0 and the smallest subnormal
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x0001_8000)), 0x0002)
        XCTAssertEqual(BFloat16.round(.greatestFiniteMagnitude), 0x7F80)
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0xFFC1_2345)), 0xFFC1)
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x7F80_0001)), 0x7FC0)   // signalling NaN made quiet, never inf
    }

    /// Every bf16 value widens exactly and rounds back to itself (NaNs to their quiet form); the
    /// vector widening equals the scalar one.
    func testWideningIsExactForEveryBitPattern() {
        let all = (0...0xFFFF).map { UInt16($0) }
        var widened = [Float](repeating: 0, count: all.count)
        all.withUnsafeBufferPointer { src in widened.withUnsafeMutableBufferPointer { BFloat16.widen(src.baseAddress!, into: $0.baseAddress!, count: all.count) } }
        for (h, f) in zip(all, widened) {
            XCTAssertEqual(f.bitPattern, UInt32(h) << 16)
            XCTAssertEqual(BFloat16.float(h).bitPattern, f.bitPattern)
            XCTAssertEqual(BFloat16.round(f), f.isNaN ? h | 0x0040 : h)
        }
    }

    /// Rows 1...9 (the one-row-at-a-time path up to 4, the two-row tile above), k = 43 (tails of the
    /// 16- and 8-wide loops), an odd output range, with and without accumulation: the bf16 kernel's
    /// outputs are the fp32 kernel's on the widened weights, bit for bit.
    func testBF16KernelEqualsTheFP32KernelOnWidenedWeights() throws {
        let (out, k) = (13, 43)
        var rng = SeededRNG(seed: 3)
        let w = Tensor(zeros: [out, k]); rng.fillNormal(w, std: 1)
        let m = try BF16Matrix(rounding: w), widened = m.widened()
        XCTAssertGreaterThan(try widened.maxAbsDifference(w), 0)
        for n in 1...9 {
            let x = Tensor(zeros: [n, k]); rng.fillNormal(x, std: 1)
            for accumulate in [false, true] {
                let a = Tensor(zeros: [n, out]), b = Tensor(zeros: [n, out])
                a.fill(0.5); b.fill(0.5)
                MatVec.BF16.kernel(weight: m, x: x.pointer, rows: n, y: a.pointer, ldy: out, outputs: 1..<out, accumulate: accumulate)
                MatVec.kernel(weight: widened.pointer, inFeatures: k, x: x.pointer, rows: n, y: b.pointer, ldy: out, outputs: 1..<out,
                              accumulate: accumulate)
                XCTAssertEqual(a.array.map(\.bitPattern), b.array.map(\.bitPattern), "n \(n) accumulate \(accumulate)")
                let reference = Tensor(zeros: [n, out]); reference.fill(0.5)
                MatVec.reference(weight: widened.pointer, inFeatures: k, x: x.pointer, rows: n, y: reference.pointer, ldy: out,
                                 outputs: 1..<out, accumulate: accumulate)
                XCTAssertLessThan(try a.maxAbsDifference(reference), 1e-4)   // |y| ~ sqrt(43): fp32 sums of 43 terms
            }
        }
        // Through the pool's product groups too (rows 70: above the fp32 path's sgemm threshold, still the bf16 kernel).
        let x = Tensor(zeros: [70, k]); rng.fillNormal(x, std: 1)
        let y = Tensor(zeros: [70, out]), z = Tensor(zeros: [70, out])
        MatVec.products(x: x.pointer, rows: 70, inFeatures: k, [MatVec.Product(bf16: m, out: y.pointer)])
        MatVec.kernel(weight: widened.pointer, inFeatures: k, x: x.pointer, rows: 70, y: z.pointer, ldy: out, outputs: 0..<out, accumulate: false)
        XCTAssertEqual(y.array.map(\.bitPattern), z.array.map(\.bitPattern))
    }
}
