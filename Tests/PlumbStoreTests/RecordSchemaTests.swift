// The one-pass "schema" finder against JSONSerialization as the independent reference.
import Foundation
import XCTest
@testable import PlumbStore

final class RecordSchemaTests: XCTestCase {
    func testFindsOnlyTheTopLevelField() {
        let cases: [(String, RecordSchema.Lookup)] = [
            (#"{"schema":"comparison/1"}"#, .found("comparison/1")),
            (#"  { "a" : [1, {"schema": "x/1"}], "b": "}\"schema\": \"y/2\"", "schema" : "prompt/12" }"#, .found("prompt/12")),
            (#"{"a": {"schema": "inner/1"}}"#, .missing),
            (#"{"schemas": "a/1", "xschema": "b/1"}"#, .missing),
            (#"{}"#, .missing),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(RecordSchema.find(in: Data(text.utf8)), expected, text)
        }
    }

    func testRejectsNonObjectsAndBadVersions() {
        for text in [#"["schema", "a/1"]"#, #""schema""#, #"{"schema": 1}"#, #"{"schema": "a"}"#, #"{"schema": "A/1"}"#,
                     #"{"schema": "a/1x"}"#, #"{"schema": "a/1"#, #"{"a": 1"#, ""] {
            if case .found = RecordSchema.find(in: Data(text.utf8)) { XCTFail("accepted \(text)") }
        }
    }

    func testAgreesWithJSONSerializationOnGeneratedRecords() throws {
        var rng = SplitMix64(seed: 77)
        let words = ["schema", "a", "text", "sch\\\"ema", "{", "}", "[", "]", ",", ":"]
        for _ in 0..<500 {
            var object: [String: Any] = [:]
            for _ in 0..<rng.below(5) {
                let key = words[rng.below(words.count)]
                switch rng.below(4) {
                case 0: object[key] = words[rng.below(words.count)]
                case 1: object[key] = ["schema": "n/\(rng.below(9))", "list": [1, "x]"]] as [String: Any]
                case 2: object[key] = rng.below(100)
                default: object[key] = "k\(rng.below(3))/\(rng.below(3))"
                }
            }
            let data = try JSONSerialization.data(withJSONObject: object)
            let reference = object["schema"] as? String
            let found = RecordSchema.find(in: data)
            if let reference, RecordSchema.isValid(reference) {
                XCTAssertEqual(found, .found(reference), String(decoding: data, as: UTF8.self))
            } else if object["schema"] == nil {
                XCTAssertEqual(found, .missing, String(decoding: data, as: UTF8.self))
            } else if case .found = found {
                XCTFail("accepted invalid schema in \(String(decoding: data, as: UTF8.self))")
            }
        }
    }
}
