// A LoRA adapter over a frozen Llama base: for every adapted projection W (out, in) of every block,
//   y = W x + (alpha / r) B A dropout(x),   A (r, in), B (out, r)
// (Hu et al. 2021, eq. 3; PEFT's `lora.Linear.forward`). The adapter's A and B live in their own
// ParameterSet under PEFT's names without the `base_model.model.` prefix
// (`model.layers.{i}.self_attn.q_proj.lora_A.weight`), so the optimiser, clipping and checkpoints
// see only them: the base takes no gradient and no optimiser state. Several adapters can share one
// base (PPO's policy, critic and reward models); the one a forward pass runs with is an argument of
// `LlamaModel.forward`, and the bare base is the pass without one (or with `enabled == false`).
//
// Init as PEFT's `reset_lora_parameters` ("kaiming" default): A ~ kaiming_uniform(a = sqrt(5)),
// i.e. U(-1/sqrt(in), 1/sqrt(in)), and B = 0, so a fresh adapter leaves the base's outputs unchanged.
//
// A role that reads a head of its own (a reward model's `score.weight`, a critic's
// `value_head.weight`, each (1, C)) carries it in the adapter (PEFT's `modules_to_save`): a pass run
// with the adapter reads and trains the adapter's head, not the base's (LlamaHeadOps). Heads start
// N(0, 1/C), so r = h . w has unit scale for unit-RMS hidden states.
import PlumbTensor

public final class LoRAAdapter {
    /// A and B of one adapted projection (views into `parameters`).
    public struct Module {
        public let target: LoRATarget
        public let layer: Int
        public let a: Tensor        // (r, in)
        public let b: Tensor        // (out, r)
        public let aName: String
        public let bName: String
    }

    public let settings: LoRASettings
    /// The heads this adapter carries (reward and/or value); the LM head is always the base's.
    public let heads: LlamaHeads
    /// The base's config: an adapter fits bases of this shape only.
    public let config: LlamaConfig
    /// Every A and B, in layer then target order (A before B).
    public let parameters: ParameterSet
    /// modules[layer][target] for every adapted target, nil where the target is not adapted.
    let modules: [[LoRATarget: Module]]
    /// Off: every forward pass with this adapter runs the bare base (bit for bit).
    public var enabled = true
    /// On: dropout draws masks from `dropoutRNG` in forward passes (training); off: no dropout.
    public var training = false
    /// Seeded masks for dropout; part of a training checkpoint's state for exact resume.
    public var dropoutRNG: SeededRNG
    /// The checksum of the base last saved or loaded against (a frozen base does not change), so
    /// checkpoints do not hash a large base again.
    var baseChecksumCache: (base: ObjectIdentifier, sha256: String)?

    /// `BaseChecksum.of(base)`, computed once per base object.
    public func checksum(of base: LlamaModel) throws -> String {
        if let cache = baseChecksumCache, cache.base == ObjectIdentifier(base) { return cache.sha256 }
        let sha = try BaseChecksum.of(base)
        baseChecksumCache = (ObjectIdentifier(base), sha)
        return sha
    }

    /// PEFT's tensor names of an adapted projection, without the `base_model.model.` prefix.
    public static func tensorNames(layer: Int, target: LoRATarget) -> (a: String, b: String) {
        let stem = "model.layers.\(layer).\(target.layerTensor.rawValue)"
        return ("\(stem).lora_A.weight", "\(stem).lora_B.weight")
    }

    /// A zero adapter (A and B zero) for a base of `config`; `initialize(seed:)` gives PEFT's init.
    public init(config: LlamaConfig, settings: LoRASettings, heads: LlamaHeads = []) throws {
        try settings.validate(for: config)
        guard !heads.contains(.lm) else { throw ConfigError("LoRA adapter: the LM head stays the base's; an adapter carries reward and value heads only") }
        self.config = config; self.settings = settings; self.heads = heads
        var specs: [ParameterSpec] = []
        for l in 0..<config.nLayers {
            for t in settings.targets {
                let shape = t.layerTensor.shape(config), names = LoRAAdapter.tensorNames(layer: l, target: t)
                specs.append(ParameterSpec(names.a, [settings.rank, shape[1]], weightDecay: true))
                specs.append(ParameterSpec(names.b, [shape[0], settings.rank], weightDecay: true))
            }
        }
        specs += LoRAAdapter.headNames(heads).map { ParameterSpec($0, [1, config.dim]) }
        parameters = try ParameterSet(specs)
        let set = parameters
        modules = try (0..<config.nLayers).map { l in
            var byTarget: [LoRATarget: Module] = [:]
            for t in settings.targets {
                let names = LoRAAdapter.tensorNames(layer: l, target: t)
                byTarget[t] = Module(target: t, layer: l, a: try set.value(names.a), b: try set.value(names.b),
                                     aName: names.a, bName: names.b)
            }
            return byTarget
        }
        dropoutRNG = SeededRNG(seed: 0)
    }

    /// An adapter with PEFT's init from `seed` (A Kaiming-uniform, B zero).
    public convenience init(config: LlamaConfig, settings: LoRASettings, heads: LlamaHeads = [], seed: UInt64) throws {
        try self.init(config: config, settings: settings, heads: heads)
        initialize(seed: seed)
    }

    /// A ~ U(-1/sqrt(in), 1/sqrt(in)) in parameter order from `seed`, B = 0; the dropout RNG is
    /// seeded from the same seed's stream after the weights.
    public func initialize(seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        for layer in modules {
            for t in settings.targets {
                guard let m = layer[t] else { continue }
                let bound = 1 / Float(m.a.shape[1]).squareRoot()
                for i in 0..<m.a.count { m.a.pointer[i] = (2 * rng.uniform() - 1) * bound }
                m.b.zero()
            }
        }
        for name in LoRAAdapter.headNames(heads) {
            rng.fillNormal(try! parameters.value(name), std: 1 / Float(config.dim).squareRoot())
        }
        dropoutRNG = SeededRNG(seed: rng.next())
    }

    /// Tensor names of `heads` (reward before value).
    static func headNames(_ heads: LlamaHeads) -> [String] {
        (heads.contains(.reward) ? [LlamaTensorNames.rewardHead] : []) + (heads.contains(.value) ? [LlamaTensorNames.valueHead] : [])
    }

    /// The module of `target` in block `layer`, or nil when that projection is not adapted.
    public func module(layer: Int, target: LoRATarget) -> Module? { modules[layer][target] }

    /// Every module, layer by layer in target order.
    public var allModules: [Module] { modules.flatMap { layer in settings.targets.compactMap { layer[$0] } } }

    /// Freezes (or unfreezes) every A and B, e.g. a reward model's adapter used only for scoring.
    public func setTrainable(_ trainable: Bool) { parameters.setTrainable(trainable) { _ in true } }

    /// Bytes of AdamW's two moments for this adapter's parameters (what training it costs on top of the base).
    public var optimizerBytes: Int { 2 * parameters.trainableCount * MemoryLayout<Float>.stride }

    /// Refuses a base whose shape differs from the one this adapter was made for, naming both.
    public func requireFits(_ base: LlamaConfig, adapterSource: String = "adapter", baseSource: String = "base") throws {
        let mine = LoRAAdapter.shapeSummary(config), theirs = LoRAAdapter.shapeSummary(base)
        guard mine == theirs else {
            throw ConfigError("\(adapterSource) was made for a base of shape \(mine), but \(baseSource) has shape \(theirs)")
        }
    }

    static func shapeSummary(_ c: LlamaConfig) -> String {
        "dim \(c.dim), hidden \(c.hiddenDim), layers \(c.nLayers), heads \(c.nHeads), kv heads \(c.nKVHeads), vocab \(c.vocabSize)"
    }
}
