// config.json keys of Hugging Face's `LlamaConfig` that change the computation and that Plumbline
// does not implement: a file that sets one is refused with the key's name, never read as if it said
// something else. Also the JSON shapes these keys take (a token id or a list of them, any value).
import Foundation

/// `eos_token_id`: one id or a list of ids (Llama 3 lists several; any of them ends a sequence).
public enum TokenIDs: Codable, Equatable, Sendable {
    case one(Int)
    case many([Int])

    public var ids: [Int] {
        switch self {
        case .one(let id): return [id]
        case .many(let ids): return ids
        }
    }

    public init(_ ids: [Int]) { self = ids.count == 1 ? .one(ids[0]) : .many(ids) }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let id = try? container.decode(Int.self) { self = .one(id); return }
        self = .many(try container.decode([Int].self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .one(let id): try container.encode(id)
        case .many(let ids): try container.encode(ids)
        }
    }
}

/// Any JSON value other than null, kept only as a short summary for messages (`rope_scaling`,
/// `quantization_config`: that the key is set is what matters).
public struct PresentValue: Codable, Equatable, Sendable {
    public let summary: String

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            let kind = ["rope_type", "type", "quant_method"].lazy.compactMap { key in
                (try? object.decode(String.self, forKey: AnyKey(stringValue: key))).map { "\(key) '\($0)'" }
            }.first
            summary = kind ?? "an object with keys \(object.allKeys.map(\.stringValue).sorted())"
        } else if (try? decoder.unkeyedContainer()) != nil {
            summary = "a list"
        } else {
            let value = try decoder.singleValueContainer()
            summary = (try? value.decode(String.self)).map { "'\($0)'" } ?? (try? value.decode(Double.self)).map { "\($0)" }
                ?? (try? value.decode(Bool.self)).map { "\($0)" } ?? "a value"
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(summary)
    }
}

/// `rope_parameters` (transformers 5 moved `rope_theta` and the scaling into it).
public struct RopeParameters: Codable, Equatable, Sendable {
    public var ropeType: String?
    public var ropeTheta: Float?
    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case ropeTheta = "rope_theta"
    }
}

extension LlamaConfigFile {
    /// Refuses keys set to a value that changes the computation in a way Plumbline does not implement.
    /// The message names the key, the value and what is supported.
    public func checkSupported() throws {
        func refuse(_ key: String, _ value: String, _ supported: String) throws {
            throw ConfigError("config.json: '\(key)' is \(value), which is not implemented; \(supported)")
        }
        if let act = hiddenAct, act != "silu" { try refuse("hidden_act", "'\(act)'", "only 'silu' (SwiGLU) is") }
        if let scaling = ropeScaling { try refuse("rope_scaling", "set (\(scaling.summary))", "only plain RoPE (rope_scaling null) is") }
        if let type = ropeParameters?.ropeType, type != "default" {
            try refuse("rope_parameters", "rope_type '\(type)'", "only rope_type 'default' (plain RoPE) is")
        }
        if attentionBias == true { try refuse("attention_bias", "true", "q/k/v/o projections have no bias (false)") }
        if mlpBias == true { try refuse("mlp_bias", "true", "gate/up/down projections have no bias (false)") }
        if let dim = headDim, let hidden = hiddenSize, let heads = numAttentionHeads, heads > 0, dim != hidden / heads {
            try refuse("head_dim", "\(dim)", "the head dimension is hidden_size / num_attention_heads = \(hidden / heads)")
        }
        if let dropout = attentionDropout, dropout != 0 { try refuse("attention_dropout", "\(dropout)", "training runs without dropout (0.0)") }
        if let quantization = quantizationConfig {
            try refuse("quantization_config", "set (\(quantization.summary))", "weights are read as F32, F16 or BF16 only")
        }
        if let ids = eosTokenId?.ids, ids.isEmpty { throw ConfigError("config.json: 'eos_token_id' is an empty list; give one id or several") }
    }

    /// Decodes a config.json's bytes and checks its keys; errors name `source`.
    public static func decode(_ data: Data, source: String) throws -> LlamaConfigFile {
        do {
            let file = try JSONDecoder().decode(LlamaConfigFile.self, from: data)
            try file.checkSupported()
            return file
        } catch let e as ConfigError {
            throw ConfigError("\(source): \(e.description)")
        } catch {
            throw ConfigError("\(source): not a valid config.json: \(error)")
        }
    }
}
