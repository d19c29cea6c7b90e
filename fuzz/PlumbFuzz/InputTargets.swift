// Targets over PlumbData's input layer: the streaming JSON scanner (arrays, single values, JSON
// Lines) and CSV, read through `InputFile` with a small row limit so over-long rows are exercised.
import Foundation
@testable import PlumbData

enum InputTargets {
    private static var limits: InputLimits {
        var limits = InputLimits()
        limits.maxLineBytes = 256
        limits.maxDecompressedBytes = 1 << 20
        return limits
    }

    static func json(_ input: UnsafeRawBufferPointer) {
        readAll(Scratch.file("input.json", input), csv: false)
    }

    static func csv(_ input: UnsafeRawBufferPointer) {
        readAll(Scratch.file("input.csv", input), csv: true)
    }

    /// Reads every row; errors are fine, rows out of order or past the limit are not.
    private static func readAll(_ url: URL, csv: Bool) {
        guard let file = try? InputFile(url.path, csv: csv, limits: limits) else { return }
        var lastLine = 0
        while let row = try? file.next() {
            precondition(row.source.line >= max(lastLine, 1), "row line \(row.source.line) after \(lastLine)")
            precondition(row.value != nil || row.problem != nil, "a row with neither value nor problem")
            precondition(row.raw.utf8.count <= 4 * 500, "an excerpt longer than 500 bytes")
            lastLine = row.source.line
        }
    }
}
