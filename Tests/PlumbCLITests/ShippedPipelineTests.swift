// The `plumb` binary's own pieces the pipeline runner is handed: the built-in pipeline files parse in
// every profile and the monthly file reads only stages the files define.
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
}
