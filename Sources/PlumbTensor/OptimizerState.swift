// Saving and restoring AdamW's state for exact resume: a small Codable header plus named tensors
// (`<parameter>.adam_m`, `<parameter>.adam_v`), which the checkpoint writer stores beside the
// weights (e.g. in a safetensors file). The RNG is Codable on its own and goes in the header.

/// The Codable part of the training state: format version, step, optimiser settings, RNG.
public struct OptimizerStateHeader: Codable, Equatable, Sendable {
    public static let currentFormatVersion = 1
    public var formatVersion: Int
    public var step: Int
    public var config: AdamWConfig
    /// Parameter names in arena order; a restore checks them against the ParameterSet.
    public var parameterNames: [String]
    public var rng: SeededRNG?

    public init(step: Int, config: AdamWConfig, parameterNames: [String], rng: SeededRNG?) {
        self.formatVersion = OptimizerStateHeader.currentFormatVersion
        self.step = step; self.config = config; self.parameterNames = parameterNames; self.rng = rng
    }
}

extension AdamW {
    /// Names of the moment tensors of parameter `name`.
    public static func momentNames(_ name: String) -> (m: String, v: String) { ("\(name).adam_m", "\(name).adam_v") }

    /// The header and the moment tensors (views into this optimiser's arenas, in parameter order).
    public func saveState(parameters: ParameterSet, rng: SeededRNG?) throws -> (header: OptimizerStateHeader, tensors: [(name: String, tensor: Tensor)]) {
        try requireMatch(parameters)
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in parameters.entries {
            let names = AdamW.momentNames(e.name)
            tensors.append((names.m, try Tensor(storage: m, offset: e.offset, shape: e.shape)))
            tensors.append((names.v, try Tensor(storage: v, offset: e.offset, shape: e.shape)))
        }
        return (OptimizerStateHeader(step: step, config: config, parameterNames: parameters.names, rng: rng), tensors)
    }

    /// Restores step and moments from a saved header and its tensors; every moment must be present
    /// with its parameter's shape. Returns the saved RNG, if any.
    @discardableResult
    public func restoreState(header: OptimizerStateHeader, tensors: [String: Tensor], parameters: ParameterSet) throws -> SeededRNG? {
        try requireMatch(parameters)
        guard header.formatVersion == OptimizerStateHeader.currentFormatVersion else {
            throw TensorError("optimizer state: format version \(header.formatVersion), this build reads \(OptimizerStateHeader.currentFormatVersion)")
        }
        guard header.config == config else { throw TensorError("optimizer state: saved settings \(header.config) differ from this optimiser's \(config)") }
        guard header.parameterNames == parameters.names else {
            throw TensorError("optimizer state: saved for parameters \(header.parameterNames.prefix(3))..., not this model's \(parameters.names.prefix(3))...")
        }
        for e in parameters.entries {
            let names = AdamW.momentNames(e.name)
            for (name, arena) in [(names.m, m), (names.v, v)] {
                guard let t = tensors[name] else { throw TensorError("optimizer state: tensor '\(name)' is missing") }
                try t.requireShape(e.shape, "optimizer state tensor '\(name)'")
                (arena.base + e.offset).update(from: t.pointer, count: e.count)
            }
        }
        step = header.step
        return header.rng
    }

    private func requireMatch(_ parameters: ParameterSet) throws {
        guard parameters.totalCount == m.count else {
            throw TensorError("AdamW: built for \(m.count) scalars, given a ParameterSet of \(parameters.totalCount)")
        }
    }
}
