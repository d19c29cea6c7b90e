// An adapter as Hugging Face PEFT saves one (`PeftModel.save_pretrained`): a directory with
//   adapter_config.json         LoraConfig's keys (peft_type LORA, r, lora_alpha, lora_dropout,
//                               target_modules, bias "none", ...)
//   adapter_model.safetensors   `base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight` (r, in)
//                               and `...lora_B.weight` (out, r), fp32, q/k in HF's rotary layout; the
//                               adapter's heads as PEFT saves `modules_to_save` (`base_model.model.score.weight`)
// The safetensors `__metadata__` carries `format: pt` (what transformers expects) and the base this
// adapter was trained on: its SHA-256 (`BaseChecksum`) and shape, which a load checks, naming both,
// and how it held its projections (`plumb.base_dtype`; for a bf16 base rounded from an fp32 one, that
// base's SHA-256 too). An adapter trained on a bf16 base loads on the fp32 base it was rounded from,
// and one trained on an fp32 base on that base's bf16 rounding, each with a warning on stderr that
// states the measured difference between the two bases' weights (BF16RoundingRecord).
// Options PEFT has and Plumbline does not (rsLoRA, DoRA, biases, fan_in_fan_out, per-module ranks)
// are refused on read with the key named.
import Foundation
import PlumbFiles
import PlumbTensor

public enum PEFTAdapterFormat {
    /// The base an adapter directory's adapter_config.json names (`base_model_name_or_path`), if any.
    public static func recordedBaseName(_ directory: URL) -> String? {
        (try? JSONDecoder().decode(PEFTLoraConfig.self, from: Data(contentsOf: directory.appendingPathComponent(configFile))))?.baseName
    }

    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    public static let namePrefix = "base_model.model."
    static let checksumKey = "plumb.base_sha256"
    static let shapeKey = "plumb.base_shape"
    static let dtypeKey = "plumb.base_dtype"
    static let sourceChecksumKey = "plumb.base_rounded_from_sha256"

    /// Writes `adapter` (trained on `base`) into `directory`; `baseName` goes in base_model_name_or_path.
    public static func save(_ adapter: LoRAAdapter, base: LlamaModel, baseName: String?, to directory: URL) throws {
        try adapter.requireFits(base.config)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for m in adapter.allModules {
            tensors[namePrefix + m.aName] = m.a
            tensors[namePrefix + m.bName] = try hfRows(m.b, target: m.target, config: adapter.config, toHF: true)
        }
        for name in LoRAAdapter.headNames(adapter.heads) { tensors[namePrefix + name] = try adapter.parameters.value(name) }
        var metadata = ["format": "pt", checksumKey: try adapter.checksum(of: base), shapeKey: LoRAAdapter.shapeSummary(base.config),
                        dtypeKey: base.baseDType.rawValue]
        if let rounding = base.bf16Rounding { metadata[sourceChecksumKey] = rounding.sourceSHA256 }
        try SafeTensors.write(TensorFile(tensors: tensors, metadata: metadata), to: directory.appendingPathComponent(weightsFile))
        let config = PEFTLoraConfig(settings: adapter.settings, baseName: baseName, heads: adapter.heads)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(config), to: directory.appendingPathComponent(configFile))
    }

    /// Reads the adapter in `directory` for `base`: the config's options must be ones Plumbline
    /// computes, the base's shape and checksum must be the recorded ones, every tensor present with its shape.
    public static func load(_ directory: URL, base: LlamaModel, baseSource: String) throws -> LoRAAdapter {
        let configURL = directory.appendingPathComponent(configFile), weightsURL = directory.appendingPathComponent(weightsFile)
        let config: PEFTLoraConfig
        do {
            config = try JSONDecoder().decode(PEFTLoraConfig.self, from: Data(contentsOf: configURL))
        } catch let e as ConfigError {
            throw ConfigError("\(configURL.path): \(e.description)")
        } catch {
            throw ConfigError("\(configURL.path): not a PEFT LoRA adapter config (\(error))")
        }
        try config.checkSupported(source: configURL.path)
        let file = try SafeTensors.read(weightsURL)
        if let shape = file.metadata[shapeKey], shape != LoRAAdapter.shapeSummary(base.config) {
            throw ConfigError("adapter \(weightsURL.path) was trained on a base of shape \(shape), but \(baseSource) has shape \(LoRAAdapter.shapeSummary(base.config))")
        }
        var checked: String?
        if let recorded = file.metadata[checksumKey] {
            let actual = try BaseChecksum.of(base)
            checked = actual
            if recorded != actual {
                try acceptAcrossBF16(file.metadata, recorded: recorded, base: base, actual: actual, adapter: weightsURL.path, baseSource: baseSource)
            }
        }
        var heads: LlamaHeads = []
        if file.tensors[namePrefix + LlamaTensorNames.rewardHead] != nil { heads.insert(.reward) }
        if file.tensors[namePrefix + LlamaTensorNames.valueHead] != nil { heads.insert(.value) }
        let adapter = try LoRAAdapter(config: base.config, settings: config.settings, heads: heads)
        if let checked { adapter.baseChecksumCache = (ObjectIdentifier(base), checked) }
        var expected = Set(file.tensors.keys)
        for m in adapter.allModules {
            for (name, view) in [(m.aName, m.a), (m.bName, m.b)] {
                guard let t = file.tensors[namePrefix + name] else {
                    throw CheckpointError("\(weightsURL.path): tensor '\(namePrefix + name)' is missing (target_modules \(config.settings.targets.map(\.rawValue)))")
                }
                guard t.shape == view.shape else {
                    throw CheckpointError("\(weightsURL.path): tensor '\(namePrefix + name)': expected shape \(view.shape) for the base \(baseSource), found \(t.shape)")
                }
                try view.copy(from: name == m.bName ? try hfRows(t, target: m.target, config: base.config, toHF: false) : t)
                expected.remove(namePrefix + name)
            }
        }
        for name in LoRAAdapter.headNames(heads) {
            let t = file.tensors[namePrefix + name]!
            guard t.shape == [1, base.config.dim] else {
                throw CheckpointError("\(weightsURL.path): tensor '\(namePrefix + name)': expected shape \([1, base.config.dim]), found \(t.shape)")
            }
            try adapter.parameters.value(name).copy(from: t)
            expected.remove(namePrefix + name)
        }
        if let extra = expected.sorted().first {
            throw CheckpointError("\(weightsURL.path): unexpected tensor '\(extra)' (\(expected.count) not used by target_modules \(config.settings.targets.map(\.rawValue)))")
        }
        return adapter
    }

    /// Accepts an adapter whose recorded base is `base` in the other dtype (bf16 rounded from this fp32
    /// base, or this bf16 base's fp32 source), warning with the measured difference; else refuses naming both checksums.
    static func acceptAcrossBF16(_ metadata: [String: String], recorded: String, base: LlamaModel, actual: String,
                                 adapter: String, baseSource: String) throws {
        let trainedOn = metadata[dtypeKey] ?? BaseDType.fp32.rawValue
        let note: String
        if trainedOn == BaseDType.bf16.rawValue, base.baseDType == .fp32, metadata[sourceChecksumKey] == actual {
            let rounding = try BF16RoundingRecord.of(base)
            note = "was trained on this base rounded to bf16 (SHA-256 \(recorded)); it runs here on the fp32 weights (\(rounding.summary))"
        } else if base.baseDType == .bf16, let rounding = base.bf16Rounding, rounding.sourceSHA256 == recorded {
            note = "was trained on the fp32 base (SHA-256 \(recorded)); it runs here on that base rounded to bf16 (\(rounding.summary))"
        } else {
            throw ConfigError("adapter \(adapter) was trained on the \(trainedOn) base with SHA-256 \(recorded), but \(baseSource) (\(base.baseDType.rawValue)) has SHA-256 \(actual): load the adapter on the base it was trained on")
        }
        FileHandle.standardError.write(Data("plumb: warning: adapter \(adapter) \(note)\n".utf8))
    }

    /// B of q_proj / k_proj has the rotary layout of its rows: converted between the model's layout
    /// and HF's halves (`toHF`), other targets unchanged.
    static func hfRows(_ b: Tensor, target: LoRATarget, config c: LlamaConfig, toHF: Bool) throws -> Tensor {
        guard c.rotaryLayout != .halves, target == .q || target == .k else { return b }
        let heads = target == .q ? c.nHeads : c.nKVHeads
        return toHF ? try RotaryPermutation.convert(b, heads: heads, from: c.rotaryLayout, to: .halves)
                    : try RotaryPermutation.convert(b, heads: heads, from: .halves, to: c.rotaryLayout)
    }
}

/// The keys of PEFT's `LoraConfig` that a Plumbline adapter writes and reads.
struct PEFTLoraConfig: Codable {
    var settings: LoRASettings
    var peftType = "LORA"
    var taskType: String? = "CAUSAL_LM"
    var baseName: String?
    var bias = "none"
    var fanInFanOut = false
    var useRSLoRA = false
    var useDoRA = false
    var rankPattern: [String: Int] = [:]
    var alphaPattern: [String: Float] = [:]
    /// Modules saved whole beside the adapter: the heads (`score`, `value_head`).
    var modulesToSave: [String]?

    init(settings: LoRASettings, baseName: String?, heads: LlamaHeads = []) {
        var s = settings
        s.learningRate = nil     // a training setting, not PEFT's
        s.baseDType = .fp32      // likewise (the weights file records the base's dtype)
        self.settings = s; self.baseName = baseName
        let modules = LoRAAdapter.headNames(heads).map { String($0.dropLast(".weight".count)) }
        modulesToSave = modules.isEmpty ? nil : modules
        if heads.contains(.reward) { taskType = "SEQ_CLS" }
    }

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", baseName = "base_model_name_or_path", bias
        case fanInFanOut = "fan_in_fan_out", useRSLoRA = "use_rslora", useDoRA = "use_dora"
        case rankPattern = "rank_pattern", alphaPattern = "alpha_pattern", inferenceMode = "inference_mode"
        case initLoRAWeights = "init_lora_weights", modulesToSave = "modules_to_save"
    }

    init(from decoder: Decoder) throws {
        settings = try LoRASettings(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        peftType = try c.decodeIfPresent(String.self, forKey: .peftType) ?? "LORA"
        taskType = try c.decodeIfPresent(String.self, forKey: .taskType)
        baseName = try c.decodeIfPresent(String.self, forKey: .baseName)
        bias = try c.decodeIfPresent(String.self, forKey: .bias) ?? "none"
        fanInFanOut = try c.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        useRSLoRA = try c.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false
        useDoRA = try c.decodeIfPresent(Bool.self, forKey: .useDoRA) ?? false
        rankPattern = try c.decodeIfPresent([String: Int].self, forKey: .rankPattern) ?? [:]
        alphaPattern = try c.decodeIfPresent([String: Float].self, forKey: .alphaPattern) ?? [:]
    }

    func encode(to encoder: Encoder) throws {
        try settings.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(peftType, forKey: .peftType)
        try c.encodeIfPresent(taskType, forKey: .taskType)
        try c.encodeIfPresent(baseName, forKey: .baseName)
        try c.encode(bias, forKey: .bias)
        try c.encode(fanInFanOut, forKey: .fanInFanOut)
        try c.encode(useRSLoRA, forKey: .useRSLoRA)
        try c.encode(useDoRA, forKey: .useDoRA)
        try c.encode(rankPattern, forKey: .rankPattern)
        try c.encode(alphaPattern, forKey: .alphaPattern)
        try c.encode(true, forKey: .inferenceMode)
        try c.encode(true, forKey: .initLoRAWeights)
        if let modulesToSave { try c.encode(modulesToSave, forKey: .modulesToSave) } else { try c.encodeNil(forKey: .modulesToSave) }
    }

    /// Refuses what the adapter's arithmetic here does not implement, naming the key.
    func checkSupported(source: String) throws {
        func refuse(_ key: String, _ value: String) throws {
            throw ConfigError("\(source): \(key) = \(value) is not supported (Plumbline computes plain LoRA: y = W x + (lora_alpha / r) B A x)")
        }
        if peftType != "LORA" { try refuse("peft_type", peftType) }
        if bias != "none" { try refuse("bias", bias) }
        if fanInFanOut { try refuse("fan_in_fan_out", "true") }
        if useRSLoRA { try refuse("use_rslora", "true") }
        if useDoRA { try refuse("use_dora", "true") }
        if !rankPattern.isEmpty { try refuse("rank_pattern", "\(rankPattern)") }
        if !alphaPattern.isEmpty { try refuse("alpha_pattern", "\(alphaPattern)") }
    }
}
