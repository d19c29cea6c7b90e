// A Llama model: config, which heads sit on the trunk, and every weight in one ParameterSet under its
// Hugging Face name. Forward, backward and the heads are in LlamaForward / LlamaBackward / LlamaHeadOps.
//
// Initialisation (GPT-2 / llama2.c `model.py` `_init_weights`): every matrix ~ N(0, 0.02), the two
// projections that write into the residual stream (o_proj, down_proj) ~ N(0, 0.02 / sqrt(2 L)),
// norm gains 1. (llama2.c scales w3 rather than w2; we scale the residual writers, as GPT-2 does.)
import Foundation
import PlumbTensor

public final class LlamaModel {
    public let config: LlamaConfig
    public let heads: LlamaHeads
    public let parameters: ParameterSet
    /// Views of the value arena by role.
    public let weights: LlamaWeights
    /// How the blocks' projections are held: fp32 in `parameters`, or bf16 (a frozen base; BF16Base.swift).
    public let baseDType: BaseDType
    /// For a bf16 base rounded from an fp32 one (`LlamaModel.bf16(rounding:)`): what the rounding changed.
    public internal(set) var bf16Rounding: BF16RoundingRecord?
    let rope: RoPETable
    let ropeLayout: RoPELayout

    /// A model with every weight zero; `initialize(seed:)` or `load(_:)` fills it. Without
    /// `gradients`, the model is frozen and holds no gradient arena (a base under LoRA adapters).
    /// `baseDType` bf16 holds the blocks' projections in bf16 outside `parameters` (frozen only).
    public init(config: LlamaConfig, heads: LlamaHeads = .lm, gradients: Bool = true, baseDType: BaseDType = .fp32) throws {
        try config.validate()
        guard baseDType == .fp32 || !gradients else {
            throw ConfigError("model: a bf16 base is frozen (it takes no gradient); make it with gradients false")
        }
        self.config = config; self.heads = heads; self.baseDType = baseDType
        let specs = LlamaTensorNames.table(config, heads: heads).filter { !LlamaModel.isBF16(name: $0.name, baseDType) }.map { name, shape in
            // No weight decay on norm gains and the embedding (which is also the tied LM head).
            ParameterSpec(name, shape, weightDecay: shape.count == 2 && name != LlamaTensorNames.embedding)
        }
        parameters = try ParameterSet(specs, gradients: gradients)
        let set = parameters
        let bf16Layers = baseDType == .bf16 ? try (0..<config.nLayers).map { _ in try BF16LayerMatrices(config: config) } : nil
        weights = try LlamaWeights(config: config, heads: heads, bf16Layers: bf16Layers) { try set.value($0) }
        rope = try RoPETable(headDim: config.headDim, maxPositions: config.maxSeqLen, theta: Double(config.ropeTheta))
        ropeLayout = config.rotaryLayout == .halves ? .halves : .adjacentPairs
    }

    /// A model initialised Llama-style from `seed`.
    public convenience init(config: LlamaConfig, heads: LlamaHeads = .lm, seed: UInt64) throws {
        try self.init(config: config, heads: heads)
        initialize(seed: seed)
    }

    /// Fills every weight from `seed`, in parameter order (same seed, same weights). `std` other than
    /// Llama's 0.02 is for benchmarks and comparisons that want well-spread logits.
    public func initialize(seed: UInt64, std: Float = 0.02) {
        var rng = SeededRNG(seed: seed)
        let residualStd = std / Float(2 * config.nLayers).squareRoot()
        for (name, shape) in LlamaTensorNames.table(config, heads: heads) {   // the parameters' order
            let bf16 = try! bf16Matrix(name)
            let t = bf16 == nil ? try! parameters.value(name) : Tensor(zeros: shape)
            if shape.count == 1 {
                t.fill(1)
            } else {
                let residual = name.hasSuffix("o_proj.weight") || name.hasSuffix("down_proj.weight")
                rng.fillNormal(t, std: residual ? residualStd : std)
            }
            try! bf16?.assign(rounding: t)
        }
    }

    /// Copies `tensors` (Hugging Face names, in `config.rotaryLayout`) into the parameters.
    /// With `allowMissingHeads`, head tensors absent from `tensors` keep their current values (e.g. a
    /// reward model initialised from an SFT checkpoint, whose `score.weight` starts fresh).
    public func load(_ tensors: [String: Tensor], source: String, allowMissingHeads: Bool = false) throws {
        try LlamaCheckpoint.check(tensors, config: config, heads: allowMissingHeads ? [] : heads, source: source)
        try loadBF16(tensors, source: source)
        for e in parameters.entries {
            guard let t = tensors[e.name] else { continue }   // only a head can be missing after `check`
            guard t.shape == e.shape else {
                throw CheckpointError("\(source): tensor '\(e.name)': expected shape \(e.shape), found \(t.shape)")
            }
            try parameters.value(of: e).copy(from: t)
        }
    }

    /// Every weight by name, as views (copy before mutating the model if you keep them); a bf16
    /// base's projections as new fp32 tensors of their values.
    public func tensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for e in parameters.entries { out[e.name] = try parameters.value(of: e) }
        for (name, _) in LlamaTensorNames.table(config, heads: heads) { if let m = try bf16Matrix(name) { out[name] = m.widened() } }
        return out
    }

    /// The fp32 values of weight `name`: a view of the parameter, or a bf16 projection widened into a new tensor.
    public func value(_ name: String) throws -> Tensor {
        if let m = try bf16Matrix(name) { return m.widened() }
        return try parameters.value(name)
    }

    /// Loads a Hugging Face checkpoint directory into a new model with `heads`.
    /// Without `gradients`, the model is frozen with no gradient arena.
    public static func load(directory: URL, heads: LlamaHeads = .lm, allowMissingHeads: Bool = false,
                            gradients: Bool = true) throws -> LlamaModel {
        let (config, file) = try LlamaCheckpoint.load(directory)
        var tensors = file.tensors
        // Files are in HF halves layout; the model runs in the config's layout (halves unless recorded).
        try RotaryPermutation.convertAll(&tensors, config: config, from: .halves, to: config.rotaryLayout)
        let model = try LlamaModel(config: config, heads: heads, gradients: gradients)
        try model.load(tensors, source: directory.path, allowMissingHeads: allowMissingHeads)
        return model
    }

    /// Saves `config.json` and `model.safetensors` into `directory`.
    public func save(to directory: URL, metadata: [String: String] = [:]) throws {
        try LlamaCheckpoint.save(config: config, tensors: try tensors(), metadata: metadata, to: directory)
    }

    /// Freezes (or unfreezes) every parameter matching `predicate`, e.g. the trunk of a value model.
    public func setTrainable(_ trainable: Bool, where predicate: (String) -> Bool) {
        parameters.setTrainable(trainable, where: predicate)
    }

    /// The gradient view of `name`, or nil when that parameter is frozen (or a bf16 base's projection).
    @inline(__always) func grad(_ name: String) throws -> Tensor? {
        baseDType == .bf16 && !parameters.contains(name) ? nil : try parameters.trainableGradient(name)
    }
}

extension LlamaModel {
    /// Loads a llama2.c legacy `.bin` (LM head only) into a new model running in `layout`.
    public static func load(llama2c url: URL, layout: RotaryLayout = .halves) throws -> LlamaModel {
        let (config, tensors) = try Llama2cFormat.read(url, layout: layout)
        let model = try LlamaModel(config: config, heads: .lm)
        try model.load(tensors, source: url.path)
        return model
    }

    /// Writes the trunk and LM head as a llama2.c legacy `.bin` (run.c reads it directly).
    public func exportLlama2c(to url: URL) throws {
        try Llama2cFormat.write(config: config, tensors: try tensors(), to: url)
    }
}
