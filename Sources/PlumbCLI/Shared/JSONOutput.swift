// Machine-readable output: one JSON object per line, keys sorted so output is stable.
import Foundation

/// Encodes `object` (dictionaries, arrays, strings, numbers, bools) as one line of JSON with sorted keys.
public func jsonLine(_ object: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// Prints `object` as one line of JSON on standard output.
public func printJSON(_ object: Any) throws {
    print(try jsonLine(object))
}

/// Prints a typed report (a benchmark's, a summary) as one line of JSON with sorted keys.
public func printReport<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
