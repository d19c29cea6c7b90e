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

/// Prints a typed report (a benchmark's, a summary) as JSON with sorted keys: one line, or indented
/// with `pretty`; slashes escaped ("\/") only with `escapingSlashes`.
public func printReport<T: Encodable>(_ value: T, pretty: Bool = false, escapingSlashes: Bool = false) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
    if !escapingSlashes { encoder.outputFormatting.insert(.withoutEscapingSlashes) }
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
