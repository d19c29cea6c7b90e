import XCTest
@testable import PlumbTensor

final class TensorShapeTests: XCTestCase {
    func testReshapeKeepsStorageAndRejectsWrongCount() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let r = try t.reshaped([3, 2])
        r.pointer[0] = 9
        XCTAssertEqual(t.array[0], 9, "a reshape is a view of the same storage")
        XCTAssertThrowsError(try t.reshaped([4, 2]))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], values: [1, 2, 3]))
        XCTAssertEqual(try t.row(1).array, [4, 5, 6])
        XCTAssertThrowsError(try t.row(2))
    }
}
