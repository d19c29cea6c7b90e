// How a policy's responses are drawn: greedy, or at a temperature with top-k / top-p, up to a number
// of new tokens, stopping at the end-of-sequence token; and whether the decoder reads the weights in
// fp32 or in 8 bits (`DecodeWeightFormat`; a settings file without `weights` means fp32).
import PlumbModel

/// A stage's option group: its keys are `temperature`, `top-k`, `top-p`, `max-new-tokens`, `weights`.
public struct SamplingSettings: ParameterGroup, Equatable {
    /// 0 means greedy.
    public var temperature: Float
    /// 0 keeps every token.
    public var topK: Int
    /// 1 keeps all of the probability mass.
    public var topP: Float
    public var maxNewTokens: Int
    /// The decoder's weights: fp32, or q8 (8-bit blocks of 32, W8A32).
    public var weights: DecodeWeightFormat

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, maxNewTokens: Int = 64, weights: DecodeWeightFormat = .f32) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.maxNewTokens = maxNewTokens
        self.weights = weights
    }

    enum CodingKeys: String, CodingKey { case temperature, topK, topP, maxNewTokens, weights }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temperature = try c.decode(Float.self, forKey: .temperature)
        topK = try c.decode(Int.self, forKey: .topK)
        topP = try c.decode(Float.self, forKey: .topP)
        maxNewTokens = try c.decode(Int.self, forKey: .maxNewTokens)
        weights = try c.decodeIfPresent(DecodeWeightFormat.self, forKey: .weights) ?? .f32
    }

    public var sampling: Sampling {
        temperature <= 0 ? .greedy : .random(temperature: temperature, topK: topK, topP: topP)
    }
}
