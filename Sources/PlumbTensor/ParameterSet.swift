// All the parameters of a model in two contiguous arenas, values and gradients, with a table of
// named entries (Hugging Face names), in insertion order (llm.c `malloc_and_point_parameters`).
// Frozen parameters (a reference model, a frozen trunk) have `trainable == false`: backward passes
// nil for their gradients and the optimiser skips them.

/// What to allocate for one parameter.
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var trainable: Bool
    /// Whether AdamW's decoupled weight decay applies (off for norms and, by choice, embeddings).
    public var weightDecay: Bool

    public init(_ name: String, _ shape: [Int], trainable: Bool = true, weightDecay: Bool = true) {
        self.name = name; self.shape = shape; self.trainable = trainable; self.weightDecay = weightDecay
    }
}

public final class ParameterSet: @unchecked Sendable {
    /// One parameter: its spec and where it lives in the arenas.
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public let count: Int
        public internal(set) var trainable: Bool
        public let weightDecay: Bool
    }

    public private(set) var entries: [Entry]
    public let values: TensorStorage      // (totalCount)
    /// (totalCount), or empty after `releaseGradients()` (a frozen base under LoRA adapters).
    public private(set) var gradients: TensorStorage
    private let index: [String: Int]

    /// Allocates zeroed arenas for `specs`, in order; names must be unique. Without `gradients`, every
    /// parameter is frozen and no gradient arena is allocated (as after `releaseGradients()`).
    public init(_ specs: [ParameterSpec], gradients withGradients: Bool = true) throws {
        var entries: [Entry] = [], index: [String: Int] = [:], offset = 0
        for spec in specs {
            guard index[spec.name] == nil else { throw TensorError("ParameterSet: duplicate parameter name '\(spec.name)'") }
            guard spec.shape.allSatisfy({ $0 > 0 }) else { throw TensorError("ParameterSet: '\(spec.name)' has invalid shape \(spec.shape)") }
            let n = Tensor.elementCount(spec.shape)
            index[spec.name] = entries.count
            entries.append(Entry(name: spec.name, shape: spec.shape, offset: offset, count: n,
                                 trainable: spec.trainable, weightDecay: spec.weightDecay))
            offset += n
        }
        if !withGradients { for i in entries.indices { entries[i].trainable = false } }
        self.entries = entries; self.index = index
        values = TensorStorage(count: offset); gradients = TensorStorage(count: withGradients ? offset : 0)
    }

    /// Number of scalars over all parameters.
    public var totalCount: Int { values.count }
    /// Number of scalars in trainable parameters.
    public var trainableCount: Int { entries.reduce(0) { $0 + ($1.trainable ? $1.count : 0) } }
    public var names: [String] { entries.map(\.name) }

    public func entry(_ name: String) throws -> Entry {
        guard let i = index[name] else { throw TensorError("ParameterSet: no parameter named '\(name)'") }
        return entries[i]
    }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The value of `name` as a view into the value arena.
    public func value(_ name: String) throws -> Tensor { try value(of: entry(name)) }
    /// The gradient of `name` as a view into the gradient arena.
    public func gradient(_ name: String) throws -> Tensor { try gradient(of: entry(name)) }
    /// The gradient of `name`, or nil when it is frozen (what backward functions take).
    public func trainableGradient(_ name: String) throws -> Tensor? {
        let e = try entry(name)
        return e.trainable ? try gradient(of: e) : nil
    }

    public func value(of e: Entry) throws -> Tensor { try Tensor(storage: values, offset: e.offset, shape: e.shape) }
    public func gradient(of e: Entry) throws -> Tensor { try Tensor(storage: gradients, offset: e.offset, shape: e.shape) }

    /// Freezes or unfreezes every parameter whose name satisfies `predicate`; returns how many changed.
    @discardableResult
    public func setTrainable(_ trainable: Bool, where predicate: (String) -> Bool) -> Int {
        var changed = 0
        precondition(!trainable || !gradientsReleased, "ParameterSet.setTrainable: the gradient arena was released; nothing can be unfrozen")
        for i in entries.indices where predicate(entries[i].name) && entries[i].trainable != trainable {
            entries[i].trainable = trainable; changed += 1
        }
        return changed
    }

    /// Freezes every parameter and frees the gradient arena: a base that only passes gradient on
    /// (to LoRA adapters) holds no gradient memory. Nothing can be unfrozen afterwards.
    public func releaseGradients() {
        for i in entries.indices { entries[i].trainable = false }
        gradients = TensorStorage(count: 0)
    }

    /// Whether the gradient arena was freed (`releaseGradients`).
    public var gradientsReleased: Bool { gradients.count < values.count }

    /// Sets every gradient to zero.
    public func zeroGrad() {
        let profiled = StepProfile.begin(.elementwise); defer { StepProfile.end(profiled) }
        gradients.base.update(repeating: 0, count: gradients.count)
    }

    /// Multiplies every gradient by `factor` (e.g. 1 / micro-batches after accumulation).
    public func scaleGradients(by factor: Float) {
        let g = gradients.base
        for i in 0..<gradients.count { g[i] *= factor }
    }

    /// The first parameter element that is NaN or infinite (name, index within the parameter), or nil.
    public func firstNonFiniteValue() -> (name: String, index: Int)? {
        let v = values.base
        for e in entries {
            for i in 0..<e.count where !v[e.offset + i].isFinite { return (e.name, i) }
        }
        return nil
    }

    /// Copies all values from `other`, which must have the same names and shapes in the same order.
    public func copyValues(from other: ParameterSet) throws {
        guard other.entries.map(\.name) == entries.map(\.name), other.entries.map(\.shape) == entries.map(\.shape) else {
            throw TensorError("ParameterSet.copyValues: the two sets have different names or shapes")
        }
        values.base.update(from: other.values.base, count: totalCount)
    }
}
