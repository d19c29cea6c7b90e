// LoRA's settings (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): which
// projections of every block carry an adapter, its rank r, alpha (the update is scaled by alpha / r),
// dropout on the adapter's input, and the adapter's own learning rate. One Codable value, so a stage
// takes LoRA as one property; keys as PEFT's `LoraConfig` writes them (`r`, `lora_alpha`,
// `lora_dropout`, `target_modules`), defaults for missing keys: rank 8, alpha 16, every linear
// projection of a block (PEFT's "all-linear", which leaves the LM head out), no dropout. `base` says how
// the frozen base holds its projections: fp32 (default) or bf16 (BF16Base.swift); a training setting
// like the learning rate, so not written into PEFT's adapter_config.json (the adapter's weights file
// records the base's dtype).
import PlumbTensor

/// A projection of a Llama block that can carry an adapter; raw values are PEFT's module names.
public enum LoRATarget: String, CaseIterable, Codable, Sendable, Comparable {
    case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"

    /// The weight of the base this target adapts.
    public var layerTensor: LlamaTensorNames.LayerTensor {
        switch self {
        case .q: return .q
        case .k: return .k
        case .v: return .v
        case .o: return .o
        case .gate: return .gate
        case .up: return .up
        case .down: return .down
        }
    }

    /// Accepts `q`, `q_proj` or `self_attn.q_proj` (and so on for every projection); anything else
    /// is refused with the list of the projections a Llama block has.
    public init(parsing text: String) throws {
        let leaf = text.split(separator: ".").last.map(String.init) ?? text
        if let t = LoRATarget(rawValue: leaf) ?? LoRATarget.allCases.first(where: { "\($0)" == leaf }) {
            self = t
        } else {
            throw ConfigError("LoRA target module '\(text)': a Llama block has \(LoRATarget.allCases.map(\.rawValue).joined(separator: ", ")) (or \"all-linear\" for all of them)")
        }
    }

    public static func < (a: LoRATarget, b: LoRATarget) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Parses a list of target names (`all-linear` stands for every projection); sorted, no duplicates.
    public static func parseList(_ names: [String]) throws -> [LoRATarget] {
        if names.contains("all-linear") { return allCases }
        return Array(Set(try names.map { try LoRATarget(parsing: $0) })).sorted()
    }
}

public struct LoRASettings: Codable, Equatable, Sendable {
    /// Rank r of every adapter: A is (r, in), B is (out, r).
    public var rank: Int
    /// The update B A x is scaled by alpha / r.
    public var alpha: Float
    /// Probability of zeroing each input element of the adapter's path in training (PEFT's lora_dropout).
    public var dropout: Float
    /// The adapted projections, in block order.
    public var targets: [LoRATarget]
    /// The adapter's learning rate; nil: the stage's.
    public var learningRate: Float?
    /// How the frozen base holds its blocks' projections while the adapter trains or decodes.
    public var baseDType: BaseDType

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: [LoRATarget] = LoRATarget.allCases,
                learningRate: Float? = nil, baseDType: BaseDType = .fp32) {
        self.rank = rank; self.alpha = alpha; self.dropout = dropout; self.targets = targets.sorted()
        self.learningRate = learningRate; self.baseDType = baseDType
    }

    /// alpha / r, the factor of B A x.
    public var scale: Float { alpha / Float(rank) }

    enum CodingKeys: String, CodingKey {
        case rank = "r", alpha = "lora_alpha", dropout = "lora_dropout", targets = "target_modules"
        case learningRate = "learning_rate", baseDType = "base"
    }

    /// Decodes PEFT's keys, or one text value as a command line or pipeline key gives it (`parsing:`).
    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            self = try LoRASettings(parsing: text)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LoRASettings()
        rank = try c.decodeIfPresent(Int.self, forKey: .rank) ?? d.rank
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? d.alpha
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? d.dropout
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate)
        baseDType = try c.decodeIfPresent(BaseDType.self, forKey: .baseDType) ?? d.baseDType
        if let single = try? c.decodeIfPresent(String.self, forKey: .targets) {
            targets = try LoRATarget.parseList([single])    // PEFT writes "all-linear" as a string
        } else if let names = try c.decodeIfPresent([String].self, forKey: .targets) {
            targets = try LoRATarget.parseList(names)
        } else {
            targets = d.targets
        }
    }

    /// Settings written as one value: `key=value` fields separated by spaces, any subset of
    /// `rank`, `alpha`, `dropout`, `targets` (comma-separated, or `all-linear`), `lr` and `base` (fp32 or
    /// bf16); `on` alone means the defaults. E.g. `rank=16 alpha=32 targets=q_proj,v_proj lr=1e-4 base=bf16`.
    public init(parsing text: String) throws {
        self.init()
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) where field != "on" {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ConfigError("LoRA setting '\(field)': expected key=value (rank, alpha, dropout, targets, lr, base)") }
            func number<T: LosslessStringConvertible>(_ type: T.Type) throws -> T {
                guard let v = T(parts[1]) else { throw ConfigError("LoRA setting '\(field)': '\(parts[1])' is not a number") }
                return v
            }
            switch parts[0] {
            case "rank", "r": rank = try number(Int.self)
            case "alpha", "lora_alpha": alpha = try number(Float.self)
            case "dropout", "lora_dropout": dropout = try number(Float.self)
            case "lr", "learning_rate": learningRate = try number(Float.self)
            case "targets", "target_modules": targets = try LoRATarget.parseList(parts[1].split(separator: ",").map(String.init))
            case "base":
                guard let d = BaseDType(rawValue: parts[1]) else {
                    throw ConfigError("LoRA setting '\(field)': the base is held in \(BaseDType.allCases.map(\.rawValue).joined(separator: " or "))")
                }
                baseDType = d
            default: throw ConfigError("LoRA setting '\(parts[0])': the keys are rank, alpha, dropout, targets, lr, base")
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rank, forKey: .rank)
        try c.encode(alpha, forKey: .alpha)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(targets.map(\.rawValue), forKey: .targets)
        try c.encodeIfPresent(learningRate, forKey: .learningRate)
        if baseDType != .fp32 { try c.encode(baseDType, forKey: .baseDType) }
    }

    /// Refuses settings that cannot describe an adapter of a model of `config`: no target, a rank of
    /// 0 or above the smaller side of an adapted weight, alpha not positive, dropout outside [0, 1).
    public func validate(for config: LlamaConfig) throws {
        guard !targets.isEmpty else { throw ConfigError("LoRA: no target module (a Llama block has \(LoRATarget.allCases.map(\.rawValue).joined(separator: ", ")))") }
        guard rank > 0 else { throw ConfigError("LoRA rank \(rank): must be at least 1") }
        for t in targets {
            let shape = t.layerTensor.shape(config)   // (out, in)
            guard rank <= shape.min()! else {
                throw ConfigError("LoRA rank \(rank) exceeds the smaller side of \(t.rawValue) \(shape) (out, in); the rank can be at most \(shape.min()!)")
            }
        }
        guard alpha > 0, alpha.isFinite else { throw ConfigError("LoRA alpha \(alpha): must be a positive number") }
        guard dropout >= 0, dropout < 1 else { throw ConfigError("LoRA dropout \(dropout): must lie in [0, 1)") }
        if let lr = learningRate, !(lr > 0 && lr.isFinite) { throw ConfigError("LoRA learning rate \(lr): must be a positive number") }
    }
}
