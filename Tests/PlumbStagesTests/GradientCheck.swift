// A model's accumulated parameter gradient against central differences of a loss, for the
// objectives' whole-model tests (DPO, KTO): the 6 largest elements and two from the middle of the
// order by size. float32 forward passes differenced at h = 2e-3 agree to about 2% of the value.
// The same check over any ParameterSet (a LoRA adapter's) takes `parameters` and `elements` (the
// arena indices to check; default as above).
import PlumbModel
import PlumbTensor
import XCTest

func assertGradientMatchesCentralDifferences(_ model: LlamaModel, _ label: String, h: Float = 2e-3, relative: Double = 2e-2,
                                             file: StaticString = #filePath, line: UInt = #line, loss: () throws -> Double) rethrows {
    try assertGradientMatchesCentralDifferences(model.parameters, label, h: h, relative: relative, file: file, line: line, loss: loss)
}

func assertGradientMatchesCentralDifferences(_ parameters: ParameterSet, _ label: String, elements: [Int]? = nil, h: Float = 2e-3,
                                             relative: Double = 2e-2, file: StaticString = #filePath, line: UInt = #line,
                                             loss: () throws -> Double) rethrows {
    let g = Array(UnsafeBufferPointer(start: parameters.gradients.base, count: parameters.gradients.count))
    let order = g.indices.sorted { abs(g[$0]) > abs(g[$1]) }
    let checked = elements ?? (Array(order.prefix(6)) + [order[order.count / 3], order[order.count / 2]])
    let v = parameters.values.base
    for i in checked {
        let original = v[i]
        v[i] = original + h
        let up = try loss()
        v[i] = original - h
        let down = try loss()
        v[i] = original
        let numeric = (up - down) / Double(2 * h)
        XCTAssertEqual(Double(g[i]), numeric, accuracy: relative * max(abs(numeric), 1e-2), "\(label) element \(i)", file: file, line: line)
    }
}
