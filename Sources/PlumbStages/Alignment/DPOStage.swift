// `plumb dpo`: direct preference optimisation of a policy on comparisons (import stages or `plumb rs`
// pairs, mixed by per-source weights: DPOData), against a frozen reference (default: the initial policy) whose log-probabilities are
// computed once and cached (ReferenceLogProbs). The shared training loop (AdamW, schedule, clipping,
// checkpoints, exact resume, the non-finite guard) runs DPOObjective; every step's and every
// evaluation's figures carry TRL's names (rewards/chosen, rewards/rejected, rewards/accuracies,
// rewards/margins, logps/chosen, logps/rejected, loss).
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

public enum DPOStage {
    public struct Parameters: Codable, Equatable, Sendable {
        public var loss = DPOLoss()
        public var seqLen = 256
        public var rows = 8
        public var epochs = 1
        public var template: ChatTemplate = .plumbline
        /// Seed of the mixture's pick and the data order.
        public var seed: UInt64 = 1
        /// Weights per source stage (and dimension) of the comparisons; nil: every comparison once.
        public var mixture: RewardMixture?
        /// TRL's default learning rate for DPO (1e-6 for 7B models; small models take more).
        public var loop = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-6))
        public init() {}
    }

    public struct Inputs: Sendable {
        public var tokenizer: URL
        public var policy: URL
        /// nil: the initial policy.
        public var reference: URL?
        /// Stages whose `comparisons-train` / `comparisons-validation` sets are the pairs.
        public var data: [URL]
        /// Another DPO stage whose reference cache may be reused.
        public var referenceCache: URL?
        public init(tokenizer: URL, policy: URL, reference: URL? = nil, data: [URL], referenceCache: URL? = nil) {
            self.tokenizer = tokenizer; self.policy = policy; self.reference = reference; self.data = data; self.referenceCache = referenceCache
        }
    }

    struct ResolvedConfig: Encodable {
        var parameters: Parameters
        var policy: String
        var reference: String
    }

    /// The comparisons of one split as DPO pairs, and what was set aside.
    struct Encoded {
        var pairs: [DPOPair] = []
        /// Chosen and rejected identical: no preference to learn.
        var identical: [Comparison] = []
        /// Responses whose prompt start was cut to fit the window (the same cut for policy and reference).
        var truncated = 0
    }

    static func encode(_ comparisons: [Comparison], templated: TemplatedTokenizer, seqLen: Int) throws -> Encoded {
        var out = Encoded()
        for c in comparisons {
            guard c.chosen != c.rejected else { out.identical.append(c); continue }
            // A multi-turn comparison's responses each follow their own side's earlier turns.
            let w = try templated.encode(prompt: c.chosenPrompt, response: c.chosen)
            let l = try templated.encode(prompt: c.rejectedPrompt, response: c.rejected)
            out.truncated += [w, l].filter { SequenceCut.fit($0, seqLen: seqLen, use: .nextToken).cut > 0 }.count
            out.pairs.append(DPOPair(id: c.id, chosen: try ResponseLikelihood.example(w, seqLen: seqLen),
                                     rejected: try ResponseLikelihood.example(l, seqLen: seqLen), referenceChosen: 0, referenceRejected: 0))
        }
        return out
    }

    public static func run(_ parameters: Parameters, inputs: Inputs, location: StageLocation,
                           progress: @escaping ProgressHandler = { _ in }, log: @escaping (String) -> Void = { _ in }) throws -> TrainingSummary {
        try parameters.loss.validate()
        try parameters.mixture?.validate(sources: SourcedComparisons.names(of: inputs.data))
        let needsReference = parameters.loss.kind.needsReference
        if !needsReference, inputs.reference != nil || inputs.referenceCache != nil {
            throw StageError("dpo: --loss \(parameters.loss.kind.rawValue) uses no reference policy; drop --reference and --reference-cache")
        }
        let reference = inputs.reference ?? inputs.policy
        let tokenizer = try Tokenizer(modelFile: inputs.tokenizer.path)
        let tokenizerSHA = try SHA256.hex(ofFile: inputs.tokenizer)
        for (role, stage) in [("policy", inputs.policy), ("reference", reference)] {
            try ModelProvenance.check(stage, role: role, tokenizer: inputs.tokenizer, tokenizerSHA: tokenizerSHA, template: parameters.template)
        }
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        let data = try DPOData.load(parameters, stages: inputs.data, templated: templated)
        let encodedTrain = data.train, encodedValidation = data.validation
        log(data.summary(parameters.mixture))
        let referenceFile = StageModel.inputFile(reference)
        let stage = try StageWriter.begin(runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: "dpo",
                                          config: ResolvedConfig(parameters: parameters, policy: inputs.policy.path, reference: reference.path),
                                          inputs: [inputs.tokenizer, StageModel.inputFile(inputs.policy), referenceFile] + data.files,
                                          seed: parameters.seed, keepUnfinished: true)
        return try stage.finish {
            // A resumed attempt writes its quarantine set again (the same records, from the same data).
            for file in (try? FileManager.default.contentsOfDirectory(atPath: stage.directory.path)) ?? []
            where ShardNaming.parse(file)?.name == "quarantine" {
                try FileManager.default.removeItem(at: stage.directory.appendingPathComponent(file))
            }
            let quarantine = try stage.shardWriter(name: "quarantine")
            for c in encodedTrain.identical + encodedValidation.identical {
                try quarantine.append(QuarantineEntry(reason: .identicalResponses, field: "chosen",
                                                      detail: "comparison \(c.id): chosen and rejected responses are identical; DPO has nothing to learn from it",
                                                      source: c.source, excerpt: c.chosen))
            }
            try stage.addOutput(name: "quarantine", files: try quarantine.finish())
            let eos = templated.info.eosID
            // SimPO and ORPO read no reference log-probabilities: none are computed.
            let attached = needsReference ? try ReferenceLogProbs.attach(
                ["train": encodedTrain.pairs, "validation": encodedValidation.pairs], reference: reference,
                referenceSHA: try SHA256.hex(ofFile: referenceFile), seqLen: parameters.seqLen, padToken: eos,
                directory: stage.directory.appendingPathComponent(ReferenceLogProbs.directoryName),
                reuse: inputs.referenceCache?.appendingPathComponent(ReferenceLogProbs.directoryName), log: log)
                : (pairs: ["train": encodedTrain.pairs, "validation": encodedValidation.pairs], computed: 0)
            let trainPairs = attached.pairs["train"]!, validationPairs = attached.pairs["validation"]!
            let model = try StageModel.load(inputs.policy)
            let plan = try RewardBatches.plan(lengths: trainPairs.map { ($0.chosen.tokens.count, $0.rejected.tokens.count) },
                                              records: Array(trainPairs.indices), rows: parameters.rows, seqLen: parameters.seqLen,
                                              accumulation: parameters.loop.optimization.gradientAccumulation, epochs: parameters.epochs,
                                              seed: parameters.seed)
            let objective = try DPOObjective(model: model, train: trainPairs, validation: validationPairs, loss: parameters.loss,
                                             rows: parameters.rows, seqLen: parameters.seqLen, padToken: eos)
            let summary = try TrainingStageRun.train(model, plan: plan, objective: objective, settings: parameters.loop, stage: stage,
                                                     metadata: ["stage": location.stage, "template": parameters.template.rawValue],
                                                     progress: progress)
            for (name, value) in summary.finalEvaluation { stage.setMetric(name, value) }
            for (name, value) in summary.initialEvaluation { stage.setMetric("initial_" + name, value) }
            stage.setMetric("train_loss", Double(summary.finalLoss))
            stage.setMetric("steps", Double(summary.steps))
            stage.setMetric("pairs.train", Double(trainPairs.count))
            stage.setMetric("pairs.validation", Double(validationPairs.count))
            for (split, sources, report) in [("train", data.trainSources, data.trainMixture),
                                             ("validation", data.validationSources, data.validationMixture)] {
                for s in sources { stage.setMetric("pairs.\(split).\(s.source)", Double(s.count)) }
                for c in report {
                    let key = "mixture.\(split).\(c.key)"
                    stage.setMetric(key + ".weight", c.weight)
                    stage.setMetric(key + ".available", Double(c.available))
                    stage.setMetric(key + ".taken", Double(c.taken))
                }
            }
            stage.setMetric("quarantined.identical", Double(encodedTrain.identical.count + encodedValidation.identical.count))
            stage.setMetric("truncated", Double(encodedTrain.truncated + encodedValidation.truncated))
            if needsReference {
                stage.setMetric("reference_cached", attached.computed == 0 ? 1 : 0)
                stage.setMetric("reference_computed", Double(attached.computed))
            }
            stage.setMetric("tokens_per_second", summary.tokensPerSecond)
            return summary
        }
    }
}
