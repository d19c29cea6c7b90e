// Shared helpers for the engine tests: seeded random tensors and a central-difference gradient check.
import XCTest
@testable import PlumbTensor

/// A tensor of `shape` with normal entries from `rng`.
func randomTensor(_ shape: [Int], _ rng: inout SeededRNG, std: Float = 1) -> Tensor {
    let t = Tensor(zeros: shape)
    rng.fillNormal(t, std: std)
    return t
}

/// sum_i out_i * weights_i in Double: a scalar loss whose gradient with respect to `out` is `weights`.
func weightedSum(_ out: Tensor, _ weights: Tensor) -> Double {
    var acc = 0.0
    for i in 0..<out.count { acc += Double(out.pointer[i]) * Double(weights.pointer[i]) }
    return acc
}

/// Compares `analytic` (dL/dinput) with central differences (L(x + h) - L(x - h)) / 2h, perturbing
/// `input` in place (Float kernels, so h is large-ish). An element passes when
/// |analytic - numeric| <= atol + rtol * |numeric|. Checks every element, or `maxElements` spread evenly.
/// Returns how many elements failed, the worst absolute error and the first failure.
func gradientMismatches(
    input: Tensor, analytic: Tensor, h: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
    maxElements: Int = 400, loss: () throws -> Double
) rethrows -> (failures: Int, worst: Double, first: String?) {
    let stride = max(1, input.count / maxElements)
    var worst = 0.0, failures = 0, first: String?
    for i in Swift.stride(from: 0, to: input.count, by: stride) {
        let saved = input.pointer[i]
        input.pointer[i] = saved + h; let up = try loss()
        input.pointer[i] = saved - h; let down = try loss()
        input.pointer[i] = saved
        let numeric = (up - down) / (2 * Double(h)), exact = Double(analytic.pointer[i])
        let err = abs(exact - numeric)
        worst = max(worst, err)
        if err > atol + rtol * abs(numeric) {
            failures += 1
            if first == nil { first = "[\(i)]: analytic \(exact) vs numeric \(numeric)" }
        }
    }
    return (failures, worst, first)
}

/// `gradientMismatches` as an assertion: no element may fail.
func assertGradientMatches(
    _ what: String, input: Tensor, analytic: Tensor, h: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
    maxElements: Int = 400, file: StaticString = #filePath, line: UInt = #line, loss: () throws -> Double
) rethrows {
    XCTAssertEqual(input.shape, analytic.shape, "\(what): gradient shape", file: file, line: line)
    let r = try gradientMismatches(input: input, analytic: analytic, h: h, atol: atol, rtol: rtol, maxElements: maxElements, loss: loss)
    XCTAssertEqual(r.failures, 0, "\(what): \(r.failures) elements outside tolerance, first \(r.first ?? "-"); worst abs error \(r.worst)",
                   file: file, line: line)
}

/// Asserts two tensors agree elementwise within `atol + rtol * |expected|`.
func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.count == expected.count else { return }
    var failures = 0, worst: Float = 0
    for i in 0..<actual.count {
        let a = actual.pointer[i], e = expected.pointer[i], err = abs(a - e)
        worst = max(worst, err)
        if !(err <= atol + rtol * abs(e)) {
            failures += 1
            if failures <= 3 { XCTFail("\(what)[\(i)]: \(a) vs expected \(e)", file: file, line: line) }
        }
    }
    XCTAssertEqual(failures, 0, "\(what): \(failures) of \(actual.count) outside tolerance; worst \(worst)", file: file, line: line)
}
