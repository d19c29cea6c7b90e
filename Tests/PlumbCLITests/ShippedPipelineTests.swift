// The `plumb` binary's own pieces the pipeline runner is handed: the built-in pipeline files parse in
// every profile and the monthly file reads only stages the files define; OPENBLAS_CORETYPE is checked.
import Foundation
import XCTest
@testable import PlumbCLI
@testable import PlumbPipeline

final class ShippedPipelineTests: XCTestCase {
    /// The shipped pipeline files parse in every profile, and every reference of the monthly file to
    /// an earlier run names a stage that main-job.yaml or monthly.yaml defines.
    func testShippedPipelineFiles() throws {
        var defined = Set<String>()
        for name in ["main-job.yaml", "monthly.yaml"] {
            for profile in ["standard", "quick"] {
                let file = try PipelineFile.load(BuiltIn.pipelinePrefix + name, builtIn: BuiltIn.pipelines, profile: profile, overrides: ["month": "2"])
                XCTAssertGreaterThan(file.stages.count, 10, name)
                defined.formUnion(file.stages.map(\.name))
            }
        }
        let monthly = try PipelineFile.load(BuiltIn.pipelinePrefix + "monthly.yaml", builtIn: BuiltIn.pipelines, profile: "quick", overrides: ["month": "2"])
        let earlier = monthly.stages.flatMap { $0.inputs.flatMap { $0.refs } }.compactMap { value -> String? in
            guard let ref = try? PipelineRef(value.text, at: value.at), ref.scope != .local else { return nil }
            return ref.stage
        }
        XCTAssertTrue(earlier.contains("select") && earlier.contains("task"), "\(earlier)")
        for stage in earlier { XCTAssertTrue(defined.contains(stage), "monthly.yaml reads \(stage) of an earlier run, which no file defines") }
    }

    func testOpenBLASKernelFamily() {
        XCTAssertEqual(OpenBLASKernels.family(cpuFlags: "fpu sse2 avx2 fma avx512f avx512bw avx512vl"), "SkylakeX")
        XCTAssertEqual(OpenBLASKernels.family(cpuFlags: "fpu sse2 avx2 fma avx512f"), "Haswell")
        XCTAssertNil(OpenBLASKernels.family(cpuFlags: "fpu sse2 sse4_2"))
    }

    /// An OPENBLAS_CORETYPE that names no family, or one the CPU cannot run, is refused with the
    /// variable and the families the CPU supports; a supported one passes whatever its case.
    func testOpenBLASCoretypeIsChecked() throws {
        let zen3 = "fpu sse2 pni ssse3 sse4_1 sse4_2 avx avx2 fma"
        XCTAssertNil(OpenBLASKernels.problem(coretype: "Zen", cpuFlags: zen3))
        XCTAssertNil(OpenBLASKernels.problem(coretype: "haswell", cpuFlags: zen3))
        let unknown = try XCTUnwrap(OpenBLASKernels.problem(coretype: "Zen9", cpuFlags: zen3))
        XCTAssertTrue(unknown.contains("OPENBLAS_CORETYPE=Zen9") && unknown.contains("names no OpenBLAS kernel family"), unknown)
        XCTAssertTrue(unknown.contains("Prescott, Core2, Nehalem, Sandybridge, Haswell, Zen.") && unknown.contains("(Haswell)"), unknown)
        let tooNew = try XCTUnwrap(OpenBLASKernels.problem(coretype: "SkylakeX", cpuFlags: zen3))
        XCTAssertTrue(tooNew.contains("a kernel family this CPU cannot run"), tooNew)
    }
}
