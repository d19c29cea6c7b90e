// Errors that commands report to the user: what went wrong, and a hint of what to do next.
import Foundation

public struct CLIError: Error, CustomStringConvertible {
    public let message: String
    public let hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\nHINT: \(hint)"
    }
}
