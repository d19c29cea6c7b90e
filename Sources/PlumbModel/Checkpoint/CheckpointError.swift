// Errors from reading or writing checkpoints: they name the file, the tensor, what was expected
// and what was found, and where useful what to do next.

public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
