// Both reward models over the same responses, in packed batches: the raw helpfulness and safety
// scores of each (prompt, response) sequence, ready for CombinedReward. A sequence is the prompt
// under the chat template, the response tokens and the end-of-sequence token (added when the response
// did not end on it: the reward is read there); a sequence longer than a model's window keeps its last
// tokens (RewardPairs' rule). Both models must read the policy's tokenizer (ModelProvenance).
import Foundation
import PlumbData
import PlumbModel
import PlumbStore

/// Raw helpfulness and safety scores of (prompt, response) sequences, in order.
public protocol ResponseScorer: AnyObject {
    func scores(_ sequences: [TokenizedExample]) throws -> [(helpfulness: Float, safety: Float)]
}

public final class CombinedScorer: ResponseScorer {
    let helpfulness: RewardScorer
    let safety: RewardScorer
    let helpfulnessWindow: Int
    let safetyWindow: Int
    let eos: Int32
    /// Sequences whose start was cut to fit a model's window.
    public private(set) var truncated = 0

    public init(helpfulness: URL, safety: URL, eos: Int32) throws {
        func load(_ stage: URL) throws -> (RewardScorer, Int) {
            let term = try RewardLikelihoodTerm.load(from: stage)
            let model = try StageModel.load(stage, heads: term.heads)
            let window = model.config.maxSeqLen
            return (try RewardScorer(model: model, seqLen: window, padToken: eos, likelihood: term), window)
        }
        (self.helpfulness, helpfulnessWindow) = try load(helpfulness)
        (self.safety, safetyWindow) = try load(safety)
        self.eos = eos
    }

    /// (helpfulness, safety) raw scores of each sequence, in order.
    public func scores(_ sequences: [TokenizedExample]) throws -> [(helpfulness: Float, safety: Float)] {
        let h = try score(sequences, with: helpfulness, window: helpfulnessWindow)
        let s = try score(sequences, with: safety, window: safetyWindow)
        return zip(h, s).map { ($0, $1) }
    }

    private func score(_ sequences: [TokenizedExample], with scorer: RewardScorer, window: Int) throws -> [Float] {
        var tokens: [[Int32]] = [], starts: [Int] = []
        tokens.reserveCapacity(sequences.count)
        for example in sequences {
            var t = example.tokens
            if t.last != eos { t.append(eos) }
            let cut = max(0, t.count - window)
            if cut > 0 { truncated += 1 }
            tokens.append(Array(t[cut...]))
            starts.append(max(1, example.promptCount - cut))
        }
        return try scorer.scores(tokens, responseStarts: starts)
    }
}

/// Which tokenizer and chat template a stage's model was trained with, read from its manifest, so
/// stages that combine models (RS, DPO, PPO) refuse a mix before any work starts.
public enum ModelProvenance {
    /// Refuses when `stage`'s manifest names a tokenizer (an input ending in `.model`) other than
    /// `tokenizer`, or a chat template other than `template`.
    public static func check(_ stage: URL, role: String, tokenizer: URL, tokenizerSHA: String, template: ChatTemplate) throws {
        guard let manifest = try? StageManifest.read(from: stage) else { return }   // a plain Hugging Face directory
        if let used = manifest.inputs.first(where: { $0.path.hasSuffix(".model") }), used.sha256 != tokenizerSHA {
            throw StageError("\(role) \(stage.path) was trained with the tokenizer \(used.path) (sha256 \(used.sha256.prefix(12))), not \(tokenizer.path) (sha256 \(tokenizerSHA.prefix(12))); every model of this stage must share the policy's tokenizer")
        }
        // The manifest's config is the stage's parameters (earlier builds nested them under `parameters`).
        guard case .object(let config) = manifest.config else { return }
        var parameters = config
        if case .object(let nested)? = config["parameters"] { parameters = nested }
        if case .string(let name)? = parameters["template"], name != template.rawValue {
            throw StageError("\(role) \(stage.path) was trained with the chat template '\(name)', this stage uses '\(template.rawValue)'")
        }
    }
}
