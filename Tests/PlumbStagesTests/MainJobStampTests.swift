// A main-job run directory is tied to the seed and settings it was made with.
import Foundation
@testable import PlumbCLI
import XCTest

final class MainJobStampTests: XCTestCase {
    func testAnotherSeedOrSizeIsRefusedTheSameIsAccepted() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("stamp-\(getpid())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try MainJobStamp(seed: 1, settings: .quick).claim(root)
        XCTAssertNoThrow(try MainJobStamp(seed: 1, settings: .quick).claim(root), "a rerun of the same job")
        XCTAssertThrowsError(try MainJobStamp(seed: 2, settings: .quick).claim(root)) { error in
            XCTAssertTrue("\(error)".contains("seed 1"), "\(error)")
            XCTAssertTrue("\(error)".contains("--run"), "\(error)")
        }
        XCTAssertThrowsError(try MainJobStamp(seed: 1, settings: .standard).claim(root))
    }
}
