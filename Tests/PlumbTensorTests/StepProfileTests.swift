// StepProfile: off by default, each kernel charged once to the outermost timed call, and a profiled
// training-style sequence of kernels accounts for no more than its wall time.
import Foundation
import XCTest
@testable import PlumbTensor

final class StepProfileTests: XCTestCase {
    override func tearDown() { StepProfile.current = nil }

    func testNothingIsRecordedWithoutAProfile() throws {
        StepProfile.current = nil
        let x = Tensor(zeros: [64, 64]), w = Tensor(zeros: [64, 64]), y = Tensor(zeros: [64, 64])
        try Linear.forward(x: x, weight: w, out: y)
        XCTAssertNil(StepProfile.begin(.matmul), "no profile installed: begin returns nil")
    }

    func testNestedCallsAreChargedToTheOutermostPhaseOnly() throws {
        let profile = StepProfile()
        StepProfile.current = profile
        let outer = StepProfile.begin(.attention)
        let x = Tensor(zeros: [128, 128]), w = Tensor(zeros: [128, 128]), y = Tensor(zeros: [128, 128])
        try Linear.forward(x: x, weight: w, out: y)   // inside attention: not matmul's
        y.zero()
        Thread.sleep(forTimeInterval: 0.01)
        StepProfile.end(outer)
        XCTAssertNil(profile.seconds[.matmul], "the inner product is charged to attention")
        XCTAssertNil(profile.seconds[.elementwise])
        XCTAssertGreaterThanOrEqual(profile.seconds[.attention] ?? 0, 0.01, "the outer call covers its 10 ms sleep")
    }

    func testTimedPhasesSumToAtMostTheWallTime() throws {
        let profile = StepProfile()
        let x = Tensor(zeros: [256, 256]), w = Tensor(zeros: [256, 256]), y = Tensor(zeros: [256, 256])
        let g = Tensor(zeros: [256]), rstd = Tensor(zeros: [256])
        g.fill(1); x.fill(0.5)
        StepProfile.current = profile
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<5 {
            try Linear.forward(x: x, weight: w, out: y)
            try RMSNorm.forward(x: x, weight: g, eps: 1e-5, out: y, rstd: rstd)
            y.zero()
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        StepProfile.current = nil
        let timed = profile.seconds.values.reduce(0, +)
        XCTAssertEqual(Set(profile.seconds.keys), [.matmul, .norm, .elementwise])
        XCTAssertLessThanOrEqual(timed, wall, "phases do not overlap, so they cannot exceed the wall time")
        XCTAssertGreaterThan(profile.seconds[.matmul] ?? 0, 0)
    }
}
