// Both reward models over the same responses, in packed batches: the raw helpfulness and safety
// scores of each (prompt, response) sequence, ready for CombinedReward. A sequence is the prompt
// under the chat template, the response tokens and the end-of-sequence token (added when the response
// did not end on it: the reward is read there); a sequence longer than a model's window keeps its last
// tokens (RewardPairs' rule). Both models must read the policy's tokenizer (ModelProvenance). With a
// conservative rule each dimension's score is its ensemble's conservative score (EnsembleScorer).
import Foundation
import PlumbData
import PlumbModel
import PlumbStore

/// Raw helpfulness and safety scores of (prompt, response) sequences, in order.
public protocol ResponseScorer: AnyObject {
    func scores(_ sequences: [TokenizedExample]) throws -> [(helpfulness: Float, safety: Float)]
}

public final class CombinedScorer: ResponseScorer {
    let helpfulness: EnsembleScorer
    let safety: EnsembleScorer
    /// Sequences whose start was cut to fit a model's window.
    public var truncated: Int { helpfulness.truncated + safety.truncated }

    /// Each stage's own model, or with `conservative` the conservative score of each stage's ensemble
    /// (both stages must then be ensembles of at least 2 members). With `sharedBase`, a LoRA reward
    /// model is its adapter and head on that base (EnsembleScorer).
    public init(helpfulness: URL, safety: URL, eos: Int32, conservative: ConservativeRule? = nil,
                sharedBase: EnsembleScorer.SharedBase? = nil) throws {
        self.helpfulness = try EnsembleScorer(stage: helpfulness, rule: conservative, eos: eos, sharedBase: sharedBase)
        self.safety = try EnsembleScorer(stage: safety, rule: conservative, eos: eos, sharedBase: sharedBase)
    }

    /// (helpfulness, safety) raw scores of each sequence, in order.
    public func scores(_ sequences: [TokenizedExample]) throws -> [(helpfulness: Float, safety: Float)] {
        let h = try helpfulness.scores(sequences)
        let s = try safety.scores(sequences)
        return zip(h, s).map { ($0, $1) }
    }
}

/// Which tokenizer and chat template a stage's model was trained with, read from its manifest, so
/// stages that combine models (RS, DPO, PPO) refuse a mix before any work starts.
public enum ModelProvenance {
    /// Refuses when `stage`'s manifest names a tokenizer (an input ending in `.model`) other than
    /// `tokenizer`, or a chat template other than `template`.
    /// What a stage's manifest records about the model it trained (nil fields: not recorded, or a
    /// plain Hugging Face directory without a manifest).
    public struct Record: Equatable {
        public var tokenizerPath: String?
        public var tokenizerSHA256: String?
        public var template: String?
        /// PreferenceDimension's raw value, for a reward model.
        public var dimension: String?
    }

    public static func read(_ stage: URL) throws -> Record {
        guard let manifest = try? StageManifest.read(from: stage) else { return Record() }
        let tokenizer = manifest.inputs.first(where: { $0.path.hasSuffix(".model") })
        var record = Record(tokenizerPath: tokenizer?.path, tokenizerSHA256: tokenizer?.sha256)
        // The manifest's config is the stage's parameters (earlier builds nested them under `parameters`).
        guard case .object(let config) = manifest.config else { return record }
        var parameters = config
        if case .object(let nested)? = config["parameters"] { parameters = nested }
        if case .string(let name)? = parameters["template"] { record.template = name }
        if case .string(let name)? = parameters["dimension"] { record.dimension = name }
        return record
    }

    /// Refuses when `stage`'s manifest names a tokenizer (an input ending in `.model`) other than
    /// `tokenizer`, or a chat template other than `template`; for an ensemble, every member's.
    public static func check(_ stage: URL, role: String, tokenizer: URL, tokenizerSHA: String, template: ChatTemplate) throws {
        var directories = [stage]
        if let ensemble = try RewardEnsemble.load(from: stage) {
            directories = ensemble.members.indices.map { ensemble.directory(of: $0, in: stage) }
        }
        for (i, dir) in directories.enumerated() {
            let what = directories.count > 1 ? "\(role) \(stage.path) (member \(i): \(dir.path))" : "\(role) \(stage.path)"
            let record = try read(dir)
            if let sha = record.tokenizerSHA256, sha != tokenizerSHA {
                throw StageError("\(what) was trained with the tokenizer \(record.tokenizerPath ?? "?") (sha256 \(sha.prefix(12))), not \(tokenizer.path) (sha256 \(tokenizerSHA.prefix(12))); every model of this stage must share the policy's tokenizer")
            }
            if let name = record.template, name != template.rawValue {
                throw StageError("\(what) was trained with the chat template '\(name)', this stage uses '\(template.rawValue)'")
            }
        }
    }
}
