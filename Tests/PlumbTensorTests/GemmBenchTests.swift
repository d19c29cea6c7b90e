// `bench gemm` at its smallest: every product of the 15M Llama's layers in each role, shapes as
// Linear issues them, fractions against the one ceiling, and the JSON field names the docs read.
import Foundation
import PlumbTensor
import XCTest

final class GemmBenchTests: XCTestCase {
    func testSmallestRunReportsEveryProductAgainstOneCeiling() throws {
        var o = GemmBench.Options()
        (o.repetitions, o.tokens, o.ceilingSize) = (1, 8, 64)
        let r = GemmBench.run(o)
        XCTAssertEqual(r.products.count, GemmBenchmark.llama15MLayers.count * LinearProductRole.allCases.count)
        XCTAssertEqual(r.ceiling.gflops, max(r.ceiling.gflopsProbeBefore, r.ceiling.gflopsProbeAfter), "the faster probe is the ceiling")
        for (i, p) in r.products.enumerated() {
            let layer = GemmBenchmark.llama15MLayers[i / 3]
            switch p.role {
            case "forward": XCTAssertEqual([p.m, p.n, p.k], [8, layer.outFeatures, layer.inFeatures])
            case "dX": XCTAssertEqual([p.m, p.n, p.k], [8, layer.inFeatures, layer.outFeatures])
            default: XCTAssertEqual([p.m, p.n, p.k], [layer.outFeatures, layer.inFeatures, 8])
            }
            XCTAssertGreaterThan(p.bestSeconds, 0)
            // gflops and the ceiling are rounded to 0.01, the fraction (of the unrounded ones) to 0.001.
            let c = r.ceiling.gflops
            XCTAssertEqual(p.fractionOfCeiling, p.gflops / c, accuracy: 0.0005 + 0.005 / c + 0.005 * p.gflops / (c * c) + 1e-12, p.shape)
        }
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["benchmark", "blas_threads", "repetitions", "tokens", "ceiling", "products"])
        XCTAssertEqual(Set((json["ceiling"] as! [String: Any]).keys), ["shape", "best_seconds", "gflops", "gflops_probe_before", "gflops_probe_after"])
        XCTAssertEqual(Set((json["products"] as! [[String: Any]])[0].keys),
                       ["layer", "role", "shape", "m", "n", "k", "transpose_a", "transpose_b", "best_seconds", "gflops", "fraction_of_ceiling"])
        XCTAssertEqual(json["benchmark"] as? String, "gemm")
    }
}
