// An optional second term of the reward: the model's own log-likelihood of the response.
//
//   r_i = h_{EOS,i} . w_score + beta * l_i,   l_i = sum_{t in response} log p(y_t | x, y_<t)   (sum)
//                                             l_i = that sum / |y_i|                            (mean)
//                                             l_i = sum_t [log p(y_t | ...) + H_t]             (centred)
//
// H_t is the entropy of the model's next-token distribution at t, so each token's term has mean 0
// under the model (CentredLogProbs): `sum` grows more negative with every token, so it favours
// short responses; `centred` charges only for tokens more surprising than the model expected (a
// wrong fact; also filler where the model expected the end, so it still prefers concise answers).
//
// Llama 2's reward model is the first term alone. The second is the reward DPO's policy carries
// implicitly (DPO eq. 7 without the reference; SimPO, Meng et al. 2024, takes the mean): with it,
// what the SFT trunk knows about the answer (is this the colour of that town's flag?) enters the
// score from the first step, where the head alone must learn to recover it at the EOS position.
// On the built-in task the SFT policy's likelihood ranks held-out pairs that differ only in
// correctness 0.87 of the time, the head-only reward model 0.56 (docs/reward.md).
//
// The term is trained with the head: dL/dr_i flows into the head at the EOS row and, times beta
// (divided by |y_i| for the mean), into every response token's log-probability, through the LM head
// and the trunk. Saved beside the model as `reward.json`, so that every scorer applies the same r.
import Foundation
import PlumbModel
import PlumbTensor

public struct RewardLikelihoodTerm: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case none, sum, mean, centred
    }

    public var kind: Kind
    /// beta.
    public var weight: Float

    public init(kind: Kind = .none, weight: Float = 0) {
        self.kind = kind
        self.weight = weight
    }

    public static let none = RewardLikelihoodTerm()
    public static let fileName = "reward.json"

    public var isActive: Bool { kind != .none && weight != 0 }

    /// The heads a model needs for this reward: the score head, and the LM head when the term is on.
    public var heads: LlamaHeads { isActive ? [.reward, .lm] : .reward }

    /// beta * l_i for every example of `layout` (its spans), from logits already computed by a
    /// forward pass on `acts`; the layout's targets mark the response tokens.
    func values(model: LlamaModel, acts: LlamaActivations, layout: BatchLayout) throws -> [Float] {
        guard isActive else { return [Float](repeating: 0, count: layout.spans.count) }
        let tokenLogProbs = try model.tokenLogProbs(acts, centred: kind == .centred)   // (rows * seqLen), 0 where no target
        let sums = model.sequenceLogProbs(tokenLogProbs, layout: layout)
        let counts = responseCounts(layout)
        return sums.indices.map { weight * (kind == .mean ? sums[$0] / Float(max(counts[$0], 1)) : sums[$0]) }
    }

    /// Adds the gradient of sum_i dRewards[i] * beta * l_i into the LM head and acts.dFinalHidden.
    func backward(model: LlamaModel, acts: LlamaActivations, layout: BatchLayout, dRewards: [Float]) throws {
        guard isActive else { return }
        let counts = responseCounts(layout)
        let dSequence = dRewards.indices.map { weight * dRewards[$0] / (kind == .mean ? Float(max(counts[$0], 1)) : 1) }
        try model.tokenLogProbsBackward(acts, dLogProbs: try model.sequenceLogProbsGradient(dSequence, layout: layout),
                                        centred: kind == .centred)
    }

    /// Response tokens (targets) of every example.
    func responseCounts(_ layout: BatchLayout) -> [Int] {
        layout.spans.map(layout.targetCount(of:))
    }

    /// Writes `reward.json` into `directory`.
    public func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(self).write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
    }

    /// The term saved with the model in `directory`; `.none` when there is no `reward.json` (a
    /// Llama 2 reward model, or a Hugging Face directory).
    public static func load(from directory: URL) throws -> RewardLikelihoodTerm {
        let file = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else { return .none }
        do {
            return try JSONDecoder().decode(RewardLikelihoodTerm.self, from: Data(contentsOf: file))
        } catch {
            throw StageError("\(file.path): not a reward likelihood term (\(error))")
        }
    }
}
