// Small conveniences on Tensor: filling, copying, comparing, and reading a tensor as rows.

extension Tensor {
    /// A new tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        pointer.update(repeating: value, count: count)
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// Sets every element to zero.
    public func zero() {
        let profiled = StepProfile.begin(.elementwise); defer { StepProfile.end(profiled) }
        fill(0)
    }

    /// Copies `source` into this tensor; the element counts must match (shapes may differ).
    public func copy(from source: Tensor) throws {
        let profiled = StepProfile.begin(.elementwise); defer { StepProfile.end(profiled) }
        guard source.count == count else {
            throw TensorError("copy: source has \(source.count) elements (shape \(source.shape)), destination \(count) (shape \(shape))")
        }
        pointer.update(from: source.pointer, count: count)
    }

    /// Reads the tensor as `(rows, width)`: the last dimension must be `width`; leading dimensions
    /// are flattened. Returns the number of rows.
    public func rowCount(width: Int, _ what: @autoclosure () -> String) throws -> Int {
        guard rank >= 1, shape[rank - 1] == width else {
            throw TensorError("\(what()): expected last dimension \(width), got shape \(shape)")
        }
        return width == 0 ? 0 : count / width
    }

    /// Throws unless `other` has exactly this tensor's shape.
    @inline(__always)
    public func requireSameShape(_ other: Tensor, _ what: @autoclosure () -> String) throws {
        if shape != other.shape { throw TensorError("\(what()): shapes differ, \(shape) vs \(other.shape)") }
    }

    /// Largest absolute elementwise difference to `other` (same element count required).
    public func maxAbsDifference(_ other: Tensor) throws -> Float {
        guard other.count == count else { throw TensorError("maxAbsDifference: \(shape) vs \(other.shape)") }
        var worst: Float = 0
        for i in 0..<count { worst = max(worst, abs(pointer[i] - other.pointer[i])) }
        return worst
    }
}

/// Throws unless an index array has `expected` entries; `what` names it in the message.
@inline(__always)
func requireCount(_ array: [Int32], _ expected: Int, _ what: @autoclosure () -> String) throws {
    if array.count != expected { throw TensorError("\(what()): expected \(expected) entries, got \(array.count)") }
}
