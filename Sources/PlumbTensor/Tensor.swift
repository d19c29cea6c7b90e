// Tensor: a contiguous fp32 array with a shape, the currency of every library above this one.
//
// Reference semantics: a Tensor is a view (storage, offset, shape) and views of one storage share
// memory, so a parameter arena can hand out one view per weight (llm.c `malloc_and_point_parameters`).
// Shapes are checked where they are combined; a mismatch is a `TensorError`, never a wild write.

/// Owns one aligned allocation of `count` floats, zero-initialised.
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative size \(count)")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
        self.count = count
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}

/// A shape mismatch or out-of-range view, reported with the shapes involved.
public struct TensorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let offset: Int
    public let shape: [Int]

    /// A new zero-filled tensor.
    public init(zeros shape: [Int]) {
        let n = Tensor.elementCount(shape)
        self.storage = TensorStorage(count: n)
        self.offset = 0
        self.shape = shape
    }

    /// A new tensor holding a copy of `values`; `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) throws {
        let n = Tensor.elementCount(shape)
        guard values.count == n else {
            throw TensorError("Tensor(shape: \(shape)) needs \(n) values, got \(values.count)")
        }
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: n) }
    }

    /// A view of `shape` starting `offset` floats into `storage`.
    public init(storage: TensorStorage, offset: Int, shape: [Int]) throws {
        let n = Tensor.elementCount(shape)
        guard offset >= 0, offset + n <= storage.count else {
            throw TensorError("view of shape \(shape) at offset \(offset) exceeds storage of \(storage.count) floats")
        }
        self.storage = storage
        self.offset = offset
        self.shape = shape
    }

    public static func elementCount(_ shape: [Int]) -> Int {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        return shape.reduce(1, *)
    }

    /// Number of elements.
    @inlinable public var count: Int { shape.reduce(1, *) }
    @inlinable public var rank: Int { shape.count }
    /// Pointer to the first element of this view.
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// The same memory seen with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard Tensor.elementCount(newShape) == count else {
            throw TensorError("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        return try Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// Row `i` of the leading dimension, as a view.
    public func row(_ i: Int) throws -> Tensor {
        guard rank >= 1, i >= 0, i < shape[0] else { throw TensorError("row \(i) out of range for shape \(shape)") }
        let inner = Array(shape.dropFirst())
        return try Tensor(storage: storage, offset: offset + i * Tensor.elementCount(inner), shape: inner)
    }

    /// A copy of the elements, in row-major order.
    public var array: [Float] { Array(buffer) }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Throws unless `shape == expected`; `what` names the operand in the message.
    @inline(__always)
    public func requireShape(_ expected: [Int], _ what: @autoclosure () -> String) throws {
        if shape != expected { throw TensorError("\(what()): expected shape \(expected), got \(shape)") }
    }
}
