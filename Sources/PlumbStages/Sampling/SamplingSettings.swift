// How a policy's responses are drawn: greedy, or at a temperature with top-k / top-p, up to a number
// of new tokens, stopping at the end-of-sequence token.
import PlumbModel

public struct SamplingSettings: Codable, Equatable, Sendable {
    /// 0 means greedy.
    public var temperature: Float
    /// 0 keeps every token.
    public var topK: Int
    /// 1 keeps all of the probability mass.
    public var topP: Float
    public var maxNewTokens: Int

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, maxNewTokens: Int = 64) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.maxNewTokens = maxNewTokens
    }

    public var sampling: Sampling {
        temperature <= 0 ? .greedy : .random(temperature: temperature, topK: topK, topP: topP)
    }
}
