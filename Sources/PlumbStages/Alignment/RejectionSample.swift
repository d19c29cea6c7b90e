// One sample of rejection sampling as it is stored (output set `samples`), and the choice of the
// best and worst of a prompt's samples by the combined reward.
import PlumbData
import PlumbModel

public struct RejectionSample: Codable, Equatable, Sendable {
    public static let schema = "rs-sample/1"
    public var schema = RejectionSample.schema
    public var promptID: String
    public var prompt: Prompt
    /// 0..<k within the prompt.
    public var sample: Int
    public var text: String
    /// New tokens, the end-of-sequence token included when the sample stopped on it.
    public var tokens: Int
    /// `eos`, `max-new-tokens` or `context-full`.
    public var stop: String
    /// Raw scores of the helpfulness and safety reward models.
    public var helpfulness: Float
    public var safety: Float
    public var safetyPrompt: Bool
    /// sigmoid(safety) < the gate's threshold.
    public var gateFired: Bool
    /// LOGIT(R_c), the combined reward before whitening (CombinedReward).
    public var combined: Float
    public var round: Int

    enum CodingKeys: String, CodingKey {
        case schema, promptID = "prompt_id", prompt, sample, text, tokens, stop, helpfulness, safety
        case safetyPrompt = "safety_prompt", gateFired = "gate_fired", combined, round
    }

    public var finished: Bool { stop == Self.stopName(.stopToken) }

    public static func stopName(_ reason: FinishReason) -> String {
        switch reason {
        case .stopToken: return "eos"
        case .maxNewTokens: return "max-new-tokens"
        case .contextFull: return "context-full"
        }
    }
}

public enum SampleRanking {
    /// The sample with the highest combined reward among those that ended on end-of-sequence (ties:
    /// the lower sample index); nil when none did.
    public static func best(_ samples: [RejectionSample]) -> RejectionSample? {
        samples.filter(\.finished).min { order($0, $1) }
    }

    /// The sample with the lowest combined reward (ties: the higher sample index), finished or not.
    public static func worst(_ samples: [RejectionSample]) -> RejectionSample? {
        samples.max { order($0, $1) }
    }

    /// Higher reward first, then the lower sample index.
    static func order(_ a: RejectionSample, _ b: RejectionSample) -> Bool {
        a.combined != b.combined ? a.combined > b.combined : a.sample < b.sample
    }

    /// True when the prompt is a safety prompt (tagged `safety`, as Llama 2's adversarial set).
    public static func isSafetyPrompt(_ prompt: Prompt) -> Bool { prompt.tags.contains("safety") }
}
