// Judging a policy checkpoint with the task's oracle: sample one response per evaluation prompt (the
// chat template, batched decoding), then score with PlumbOracle. Lives in PlumbEval because training
// code must never import the oracle.
// Distributed (`Distributed.world` of N ranks): rank r answers the prompts i ≡ r (mod N), each with
// prompt i's seed as one process would draw it, and every rank gets every answer back in prompt order.
import Foundation
import PlumbData
import PlumbModel
import PlumbOracle
import PlumbStages
import PlumbTask
import PlumbTensor

public enum PolicyOracle {
    /// The prompts of a message-list JSONL file answered by the policy in `model`: each record keeps
    /// its id and tags and gains the response as its assistant turn.
    public static func answer(model: URL, tokenizer: URL, template: ChatTemplate, prompts: URL,
                       settings: SamplingSettings, seed: UInt64) throws -> [MessageRecord] {
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: template)
        return try answer(policy: try StageModel.load(model), templated: templated, records: try ResponseFile.loadPrompts(prompts),
                          settings: settings, seed: seed)
    }

    /// The records answered by a policy in memory (PPO judges its live weights between iterations).
    public static func answer(policy: LlamaModel, templated: TemplatedTokenizer, records: [MessageRecord],
                       settings: SamplingSettings, seed: UInt64) throws -> [MessageRecord] {
        let sampler = try PolicySampler(model: policy, templated: templated)
        let world = Distributed.world
        let responder: PolicyResponder = { texts in
            let answered = try Sharding.gatherInOrder(count: texts.count, world: world) { mine in
                try sampler.respond(to: mine.map { [Message.user(texts[$0])] }, settings: settings,
                                    seeds: mine.map { PolicySampler.seed(seed, prompt: $0) }).map { $0[0].text }
            }
            return world.size > 1 ? try world.broadcast(answered ?? [], root: 0) : answered!
        }
        return try zip(records, PolicyEvaluation.respond(to: records, with: responder)).map { record, judged in
            MessageRecord(id: record.id, messages: [.user(judged.prompt), .assistant(judged.response)], tags: record.tags)
        }
    }

    /// The oracle's helpfulness, violation and false-refusal rates (with 95% intervals) of a policy
    /// in memory on `records`, as metrics named `oracle/...`.
    public static func figures(policy: LlamaModel, templated: TemplatedTokenizer, records: [MessageRecord], settings: SamplingSettings,
                        seed: UInt64) throws -> [String: Double] {
        let report = OracleReport(try OracleReport.judge(judged(try answer(policy: policy, templated: templated, records: records,
                                                                            settings: settings, seed: seed))))
        var out: [String: Double] = [:]
        for (name, rate) in [("helpfulness", report.helpfulness), ("violations", report.violation), ("false_refusals", report.falseRefusal)] {
            out["oracle/\(name)"] = rate.rate
            out["oracle/\(name)_low"] = rate.low
            out["oracle/\(name)_high"] = rate.high
        }
        return out
    }

    /// The environment that lets PPO judge its live policy with the oracle, and the RL stages
    /// validate it with the task's annotators (PolicyValidation).
    public static var environment: StageEnvironment {
        StageEnvironment(policyJudge: { prompts, templated, settings, seed in
            let records = try ResponseFile.loadPrompts(prompts)
            return { _, model in try figures(policy: model, templated: templated, records: records, settings: settings, seed: seed) }
        }, policyValidator: PolicyValidation.validator)
    }

    /// The answered records as the oracle reads them.
    public static func judged(_ answered: [MessageRecord]) -> [JudgedResponse] {
        answered.map { JudgedResponse(id: $0.id, prompt: $0.prompt ?? "", response: $0.response ?? "") }
    }
}
