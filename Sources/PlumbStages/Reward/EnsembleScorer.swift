// One dimension's reward of (prompt, response) sequences: a stage's own model, or the conservative
// score of its ensemble (RewardEnsemble, ConservativeRule). A sequence gets the end-of-sequence token
// when it did not end on it (the reward is read there), and keeps its last tokens when longer than a
// member's window (RewardPairs' rule).
//
// With a rule, member i's raw score r_i becomes z_i = (r_i - mu_i) / sigma_i, the rule reduces the z_i
// to R(z), and the score handed on is
//
//   r = mean_i(mu_i) + mean_i(sigma_i) * R(z)
//
// back on the members' average raw scale, so that the safety gate's threshold on sigmoid(r) and the
// whitening of the combined reward keep the meaning they have for one model.
//
// Given a shared base (`SharedBase`: LoRA PPO's frozen base), a member stage that holds a LoRA adapter
// (`rm train --lora`) is read as that adapter and its reward head on the shared base, not as a merged
// copy of its own base; its recorded base checksum must be the shared base's (the error names both).
import Foundation
import PlumbData
import PlumbModel

public final class EnsembleScorer {
    struct Member {
        let scorer: RewardScorer
        let window: Int
        let scale: Whitening
    }

    let members: [Member]
    let rule: ConservativeRule?
    let eos: Int32
    /// Sequences whose start was cut to fit a member's window (counted once per sequence and member).
    public private(set) var truncated = 0

    /// `rule` nil: the stage's own model (member 0 of an ensemble), raw scores. A rule needs an
    /// ensemble of at least 2 members; it is refused otherwise, before any model loads.
    public init(stage: URL, rule: ConservativeRule?, eos: Int32, sharedBase: SharedBase? = nil) throws {
        self.rule = rule
        self.eos = eos
        guard let rule else {
            members = [try Self.member(stage, scale: Whitening(mean: 0, std: 1, count: 0), eos: eos, sharedBase: sharedBase)]
            return
        }
        let ensemble = try Self.check(stage, rule: rule)
        members = try ensemble.members.indices.map {
            try Self.member(ensemble.directory(of: $0, in: stage), scale: ensemble.members[$0].scale, eos: eos, sharedBase: sharedBase)
        }
    }

    /// A frozen base in memory that LoRA reward models are read onto, where it was loaded from, and
    /// the one-example workspaces the LoRA members' passes share (nil: their own).
    public struct SharedBase {
        public let model: LlamaModel
        public let source: String
        public let workspaces: SequenceForward?
        public init(model: LlamaModel, source: String, workspaces: SequenceForward? = nil) {
            self.model = model; self.source = source; self.workspaces = workspaces
        }
    }

    /// The ensemble of `stage`, checked for `rule` (at least 2 members that belong together), before any model loads.
    @discardableResult
    public static func check(_ stage: URL, rule: ConservativeRule) throws -> RewardEnsemble {
        guard let ensemble = try RewardEnsemble.load(from: stage), ensemble.members.count >= 2 else {
            let n = try RewardEnsemble.load(from: stage)?.members.count ?? 1
            throw StageError("\(stage.path): the conservative reward \(rule) needs an ensemble of at least 2 reward models; this stage has \(n) (train it with rm train --ensemble N, N >= 2)")
        }
        try ensemble.check(stage: stage)
        return ensemble
    }

    /// The weights files (and `ensemble.json`s) a stage scoring with `helpfulness` and `safety` under
    /// `rule` reads, for its cache key; with a rule, both ensembles are checked first.
    public static func rewardFiles(helpfulness: URL, safety: URL, rule: ConservativeRule?) throws -> [URL] {
        guard let rule else { return [helpfulness, safety].map(StageModel.inputFile) }
        try check(helpfulness, rule: rule)
        try check(safety, rule: rule)
        return try RewardEnsemble.inputFiles(helpfulness) + RewardEnsemble.inputFiles(safety)
    }

    static func member(_ directory: URL, scale: Whitening, eos: Int32, sharedBase: SharedBase? = nil) throws -> Member {
        let term = try RewardLikelihoodTerm.load(from: directory)
        if let shared = sharedBase, StageModel.holdsAdapter(directory) {
            let adapter = try StageModel.loadAdapter(directory, onto: shared.model, baseSource: shared.source)
            adapter.setTrainable(false)
            let window = shared.workspaces?.maxLength ?? shared.model.config.maxSeqLen
            return Member(scorer: try RewardScorer(model: shared.model, seqLen: window, padToken: eos, likelihood: term, adapter: adapter,
                                                   sharing: shared.workspaces),
                          window: window, scale: scale)
        }
        let model = try StageModel.load(directory, heads: term.heads)
        let window = model.config.maxSeqLen
        return Member(scorer: try RewardScorer(model: model, seqLen: window, padToken: eos, likelihood: term),
                      window: window, scale: scale)
    }

    public var memberCount: Int { members.count }

    /// Each member's raw scores: [member][sequence].
    public func memberScores(_ sequences: [TokenizedExample]) throws -> [[Float]] {
        try members.map { try score(sequences, with: $0) }
    }

    /// One score per sequence, in order: the single model's raw score, or the ensemble's conservative one.
    public func scores(_ sequences: [TokenizedExample]) throws -> [Float] {
        let raw = try memberScores(sequences)
        guard let rule else { return raw[0] }
        return Self.combine(raw, scales: members.map(\.scale), rule: rule)
    }

    /// r = mean(mu) + mean(sigma) * R(z) for each sequence of `raw` ([member][sequence]).
    public static func combine(_ raw: [[Float]], scales: [Whitening], rule: ConservativeRule) -> [Float] {
        let n = Double(scales.count)
        let mu = scales.reduce(0) { $0 + $1.mean } / n, sigma = scales.reduce(0) { $0 + $1.std } / n
        return (0..<(raw.first?.count ?? 0)).map { j in
            let z = scales.indices.map { (Double(raw[$0][j]) - scales[$0].mean) / scales[$0].std }
            return Float(mu + sigma * rule.reduce(z))
        }
    }

    private func score(_ sequences: [TokenizedExample], with member: Member) throws -> [Float] {
        var tokens: [[Int32]] = [], starts: [Int] = []
        tokens.reserveCapacity(sequences.count)
        for example in sequences {
            var t = example.tokens
            if t.last != eos { t.append(eos) }
            let cut = max(0, t.count - member.window)
            if cut > 0 { truncated += 1 }
            tokens.append(Array(t[cut...]))
            starts.append(max(1, example.promptCount - cut))
        }
        return try member.scorer.scores(tokens, responseStarts: starts)
    }
}
