// LlamaConfig: the shape of a Llama-family model, in two levels (STYLE.md habit 1).
//
// `LlamaConfigFile` is the Codable file form with Hugging Face `config.json` keys, every field
// optional; `resolved()` fills defaults, validates, and gives the plain `LlamaConfig` the model uses.
// Presets are the shapes of llama2.c's stories models (`260k`, `15m`) and a `tiny` one for tests.
import Foundation

/// How the rows of `q_proj`/`k_proj` pair up under rotary embeddings.
public enum RotaryLayout: String, Codable, Sendable, CaseIterable {
    /// Hugging Face: dimension j pairs with j + head_dim/2 ("rotate_half").
    case halves
    /// Meta's original code and llama2.c: dimension 2j pairs with 2j + 1.
    case adjacentPairs = "adjacent_pairs"
}

/// A configuration that cannot describe a model; the message names the field and the rule.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Hugging Face `config.json` for `LlamaForCausalLM`; missing keys default, keys that change the math
/// and are not implemented are refused (LlamaConfigKeys.swift), other unknown keys are ignored.
public struct LlamaConfigFile: Codable, Equatable, Sendable {
    public var modelType: String?
    public var hiddenSize: Int?
    public var intermediateSize: Int?
    public var numHiddenLayers: Int?
    public var numAttentionHeads: Int?
    public var numKeyValueHeads: Int?
    public var vocabSize: Int?
    public var maxPositionEmbeddings: Int?
    public var ropeTheta: Float?
    public var rmsNormEps: Float?
    public var tieWordEmbeddings: Bool?
    public var bosTokenId: Int?
    public var eosTokenId: TokenIDs?
    /// Plumbline's record of the q/k row layout; absent means Hugging Face's `halves`.
    public var rotaryLayout: RotaryLayout?
    // Read only to be refused when they ask for what is not implemented (`checkSupported`).
    public var hiddenAct: String?
    public var ropeScaling: PresentValue?
    public var ropeParameters: RopeParameters?
    public var attentionBias: Bool?
    public var mlpBias: Bool?
    public var headDim: Int?
    public var attentionDropout: Double?
    public var quantizationConfig: PresentValue?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case ropeTheta = "rope_theta"
        case rmsNormEps = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case rotaryLayout = "rotary_layout"
        case hiddenAct = "hidden_act"
        case ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case headDim = "head_dim"
        case attentionDropout = "attention_dropout"
        case quantizationConfig = "quantization_config"
    }

    public init() {}

    /// Defaults are Hugging Face's `LlamaConfig` defaults where they exist.
    public func resolved() throws -> LlamaConfig {
        guard let dim = hiddenSize else { throw ConfigError("config.json: missing required key 'hidden_size'") }
        guard let layers = numHiddenLayers else { throw ConfigError("config.json: missing required key 'num_hidden_layers'") }
        guard let heads = numAttentionHeads else { throw ConfigError("config.json: missing required key 'num_attention_heads'") }
        guard let vocab = vocabSize else { throw ConfigError("config.json: missing required key 'vocab_size'") }
        if let type = modelType, type != "llama" {
            throw ConfigError("config.json: model_type '\(type)' is not supported; expected 'llama'")
        }
        try checkSupported()
        let config = LlamaConfig(
            dim: dim, hiddenDim: intermediateSize ?? 4 * dim, nLayers: layers, nHeads: heads,
            nKVHeads: numKeyValueHeads ?? heads, vocabSize: vocab, maxSeqLen: maxPositionEmbeddings ?? 2048,
            ropeTheta: ropeTheta ?? ropeParameters?.ropeTheta ?? 10000, rmsNormEps: rmsNormEps ?? 1e-5,
            tieWordEmbeddings: tieWordEmbeddings ?? false, rotaryLayout: rotaryLayout ?? .halves,
            bosTokenId: bosTokenId ?? 1, eosTokenIds: eosTokenId?.ids ?? [2])
        try config.validate()
        return config
    }
}

/// The resolved model shape: no optionals, validated.
public struct LlamaConfig: Equatable, Sendable {
    public var dim: Int
    public var hiddenDim: Int
    public var nLayers: Int
    public var nHeads: Int
    public var nKVHeads: Int
    public var vocabSize: Int
    public var maxSeqLen: Int
    public var ropeTheta: Float
    public var rmsNormEps: Float
    public var tieWordEmbeddings: Bool
    public var rotaryLayout: RotaryLayout
    public var bosTokenId: Int
    /// Every id that ends a sequence (config.json's `eos_token_id`, one id or a list); never empty.
    public var eosTokenIds: [Int]

    public init(dim: Int, hiddenDim: Int, nLayers: Int, nHeads: Int, nKVHeads: Int, vocabSize: Int,
                maxSeqLen: Int, ropeTheta: Float = 10000, rmsNormEps: Float = 1e-5,
                tieWordEmbeddings: Bool = true, rotaryLayout: RotaryLayout = .halves,
                bosTokenId: Int = 1, eosTokenIds: [Int] = [2]) {
        self.dim = dim; self.hiddenDim = hiddenDim; self.nLayers = nLayers; self.nHeads = nHeads
        self.nKVHeads = nKVHeads; self.vocabSize = vocabSize; self.maxSeqLen = maxSeqLen
        self.ropeTheta = ropeTheta; self.rmsNormEps = rmsNormEps; self.tieWordEmbeddings = tieWordEmbeddings
        self.rotaryLayout = rotaryLayout; self.bosTokenId = bosTokenId; self.eosTokenIds = eosTokenIds
    }

    public var headDim: Int { dim / nHeads }
    /// Width of the key and value projections: n_kv_heads * head_dim.
    public var kvDim: Int { nKVHeads * headDim }
    /// Query heads served by each key/value head.
    public var groupSize: Int { nHeads / nKVHeads }

    public func validate() throws {
        func positive(_ v: Int, _ key: String) throws {
            if v <= 0 { throw ConfigError("config: '\(key)' must be positive, got \(v)") }
        }
        try positive(dim, "hidden_size"); try positive(hiddenDim, "intermediate_size")
        try positive(nLayers, "num_hidden_layers"); try positive(nHeads, "num_attention_heads")
        try positive(nKVHeads, "num_key_value_heads"); try positive(vocabSize, "vocab_size")
        try positive(maxSeqLen, "max_position_embeddings")
        if dim % nHeads != 0 {
            throw ConfigError("config: hidden_size \(dim) is not divisible by num_attention_heads \(nHeads)")
        }
        if headDim % 2 != 0 { throw ConfigError("config: head dimension \(headDim) must be even for rotary embeddings") }
        if nHeads % nKVHeads != 0 {
            throw ConfigError("config: num_attention_heads \(nHeads) is not a multiple of num_key_value_heads \(nKVHeads)")
        }
        if !(ropeTheta > 0) { throw ConfigError("config: 'rope_theta' must be positive, got \(ropeTheta)") }
        if !(rmsNormEps > 0) { throw ConfigError("config: 'rms_norm_eps' must be positive, got \(rmsNormEps)") }
        if eosTokenIds.isEmpty { throw ConfigError("config: 'eos_token_id' must name at least one id") }
    }

    /// The file form, for writing `config.json`.
    public var file: LlamaConfigFile {
        var f = LlamaConfigFile()
        f.modelType = "llama"; f.hiddenSize = dim; f.intermediateSize = hiddenDim; f.numHiddenLayers = nLayers
        f.numAttentionHeads = nHeads; f.numKeyValueHeads = nKVHeads; f.vocabSize = vocabSize
        f.maxPositionEmbeddings = maxSeqLen; f.ropeTheta = ropeTheta; f.rmsNormEps = rmsNormEps
        f.tieWordEmbeddings = tieWordEmbeddings; f.rotaryLayout = rotaryLayout
        f.bosTokenId = bosTokenId; f.eosTokenId = TokenIDs(eosTokenIds)
        return f
    }

    /// Reads and resolves a Hugging Face `config.json`.
    public static func load(_ url: URL) throws -> LlamaConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError("\(url.path): cannot read config: \(error.localizedDescription)")
        }
        let file = try LlamaConfigFile.decode(data, source: url.path)
        do {
            return try file.resolved()
        } catch let e as ConfigError {
            throw ConfigError("\(url.path): \(e.description)")
        }
    }

    /// `config.json` bytes with sorted keys (deterministic).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(file)
    }
}

/// Named shapes: llama2.c's stories models, TinyLlama-1.1B's, and a tiny one for tests.
public enum LlamaPreset: String, CaseIterable, Sendable {
    case tiny
    case stories260k = "260k"
    case stories15m = "15m"
    /// TinyLlama-1.1B's shape (untied LM head), for memory benchmarks with random weights.
    case tinyLlama1b = "1b"

    public var config: LlamaConfig {
        switch self {
        case .tiny:
            return LlamaConfig(dim: 16, hiddenDim: 40, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 32, maxSeqLen: 32)
        case .stories260k:
            return LlamaConfig(dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKVHeads: 4, vocabSize: 512, maxSeqLen: 512)
        case .stories15m:
            return LlamaConfig(dim: 288, hiddenDim: 768, nLayers: 6, nHeads: 6, nKVHeads: 6, vocabSize: 32000, maxSeqLen: 256)
        case .tinyLlama1b:
            return LlamaConfig(dim: 2048, hiddenDim: 5632, nLayers: 22, nHeads: 32, nKVHeads: 4, vocabSize: 32000, maxSeqLen: 2048,
                               tieWordEmbeddings: false)
        }
    }
}

extension LlamaConfig {
    /// This config with a different context length (RoPE extends to any position).
    public func with(maxSeqLen: Int) -> LlamaConfig {
        var c = self
        c.maxSeqLen = maxSeqLen
        return c
    }
}
