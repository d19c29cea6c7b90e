// File names read from a manifest must name files inside the stage directory.
import Foundation
import XCTest
@testable import PlumbStore

final class ManifestPathTests: XCTestCase {
    private let code = CodeVersion(commit: String(repeating: "a", count: 40), dirty: false)

    /// A complete stage whose manifest is then edited so one file name points elsewhere.
    private func stage(editing edit: (inout [String: Any]) -> Void) throws -> URL {
        let runs = try makeScratchDirectory(self)
        let stage = try StageWriter.begin(runsRoot: runs, run: "r1", stage: "s", kind: "import", config: ["k": 1], code: code, log: { _ in })
        let writer = try stage.shardWriter(name: "comparisons")
        for i in 0..<3 { try writer.append(sampleRecord(i)) }
        try stage.addOutput(name: "comparisons", files: try writer.finish())
        try stage.complete()
        let url = stage.directory.appendingPathComponent(StageManifest.fileName)
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return stage.directory
    }

    func testOutputFileNamesLeavingTheStageDirectoryAreRefused() throws {
        for name in ["../other/comparisons-00000-of-00001.jsonl.zst", "/etc/passwd", "..", ""] {
            let directory = try stage { object in
                var outputs = object["outputs"] as! [[String: Any]]
                var files = outputs[0]["files"] as! [[String: Any]]
                files[0]["file"] = name
                outputs[0]["files"] = files
                object["outputs"] = outputs
            }
            XCTAssertThrowsError(try StageManifest.read(from: directory), name) { error in
                XCTAssertEqual("\(error)".components(separatedBy: "\n")[0],
                               "\(directory.appendingPathComponent("manifest.json").path): outputs[0].files[0].file is '\(name)': "
                               + "not a plain file name inside the stage directory")
            }
        }
    }

    func testArtifactFileNamesLeavingTheStageDirectoryAreRefused() throws {
        let directory = try stage { object in
            object["artifacts"] = [["name": "model", "file": "../../model.zst", "sha256": "", "compressedBytes": 0, "rawSHA256": "", "rawBytes": 0]]
        }
        XCTAssertThrowsError(try StageManifest.read(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("artifacts[0].file is '../../model.zst': not a plain file name"), "\(error)")
        }
    }
}
