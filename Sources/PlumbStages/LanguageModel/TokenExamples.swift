// Turning records into token examples for language-model training.
//
//   pretraining  passage -> [BOS] + encode(text) + [EOS]; every token predicts the next one. A
//                passage longer than T + 1 tokens is cut into windows of T + 1 (overlapping by one,
//                so no target is lost).
//   SFT          prompt (chat template) + response + [EOS]; only response tokens carry a target
//                (METHODS.md section 2: loss on response tokens only).
// An example is (tokens, targets) with targets[i] = the token after tokens[i], or ignore.
import PlumbData
import PlumbTensor

public enum LossMask: String, Codable, CaseIterable, Sendable {
    /// Every token predicts the next (pretraining on raw text).
    case allTokens = "all"
    /// Only the response's tokens are predicted (SFT).
    case responseOnly = "response"
}

public struct TokenExampleSet: Sendable {
    public var examples: [BatchLayout.Example]
    /// Records dropped because their prompt alone fills the sequence (nothing left to learn from).
    public var droppedTooLong: Int
    /// Records whose response was cut to fit the sequence.
    public var truncated: Int

    public var lengths: [Int] { examples.map(\.tokens.count) }
    public var targetTokens: Int { examples.reduce(0) { $0 + $1.targetCount } }
}

public enum TokenExamples {
    /// Windows of raw text for pretraining.
    public static func passages(_ texts: [String], tokenizer: Tokenizer, bos: Int32, eos: Int32, seqLen: Int) throws -> TokenExampleSet {
        var examples: [BatchLayout.Example] = []
        for text in texts {
            let ids = [bos] + (try tokenizer.encode(text)) + [eos]
            var start = 0
            while start < ids.count - 1 {
                let end = min(start + seqLen + 1, ids.count)
                let window = Array(ids[start..<end])
                examples.append(try BatchLayout.Example(tokens: Array(window.dropLast()), targets: Array(window.dropFirst())))
                start = end - 1
            }
        }
        return TokenExampleSet(examples: examples, droppedTooLong: 0, truncated: 0)
    }

    /// Prompt + response examples, with targets on the response only (or on everything).
    public static func dialogues(_ pairs: [(prompt: [Message], response: String)], templated: TemplatedTokenizer,
                                 seqLen: Int, mask: LossMask = .responseOnly) throws -> TokenExampleSet {
        var set = TokenExampleSet(examples: [], droppedTooLong: 0, truncated: 0)
        for pair in pairs {
            let encoded = try templated.encode(prompt: pair.prompt, response: pair.response)
            guard let example = try example(encoded.tokens, promptCount: encoded.promptCount, seqLen: seqLen, mask: mask) else {
                set.droppedTooLong += 1
                continue
            }
            if example.tokens.count < encoded.tokens.count - 1 { set.truncated += 1 }
            set.examples.append(example)
        }
        return set
    }

    /// The example for a whole sequence whose first `promptCount` tokens are the prompt, cut to
    /// `seqLen + 1` tokens; nil when the prompt leaves no response token to predict.
    static func example(_ ids: [Int32], promptCount: Int, seqLen: Int, mask: LossMask) throws -> BatchLayout.Example? {
        let kept = Array(ids.prefix(seqLen + 1))
        guard promptCount < kept.count, kept.count >= 2 else { return nil }
        var targets = Array(kept.dropFirst())
        if mask == .responseOnly {
            // tokens[i] predicts kept[i + 1]; that is a response token when i + 1 >= promptCount.
            for i in 0..<max(promptCount - 1, 0) { targets[i] = CrossEntropy.ignoreIndex }
        }
        return try BatchLayout.Example(tokens: Array(kept.dropLast()), targets: targets)
    }
}
