// The OpenBLAS kernel family `plumb` names from the CPU's flags, and the check of an
// OPENBLAS_CORETYPE someone set (OpenBLASKernels).
import XCTest
@testable import PlumbTensor

final class OpenBLASKernelsTests: XCTestCase {
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
