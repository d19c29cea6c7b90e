// `plumb kto`: Kahneman-Tversky optimisation of a policy on unpaired judgements (feedback/1 records:
// KTO labels, thumbs; safety labels on single responses) and on comparisons taken as one desirable and one undesirable example each
// (KTOData), against a frozen reference (default: the initial policy). The reference's
// log-probabilities of every example and of its mismatched twin are computed once and cached in the
// DPO stage's cache format (ReferenceLogProbs: the example and its twin stand as the pair's two
// sequences), so a resumed stage or a later one given `reference-cache` computes nothing again. The
// shared training loop (AdamW, schedule, clipping, checkpoints, exact resume, the non-finite guard)
// runs KTOObjective; figures carry TRL's KTOTrainer names (rewards/chosen, rewards/rejected,
// rewards/margins, logps/chosen, logps/rejected, kl).
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

extension StageKind {
    public static let kto: StageKind = "kto"
}

public enum KTOStage: Stage {
    public static let kind = StageKind.kto
    public static let abstract = "Kahneman-Tversky optimisation of a policy on unpaired feedback (and comparisons as desirable / undesirable examples), the reference's log-probabilities computed once and cached."
    public static let rerun = StageRerun.resume
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
        InputSlot("init-from", .one, "Policy stage (SFT or RS) to start from."),
        InputSlot("reference", .optional, "Reference policy stage (default: init-from)."),
        InputSlot("data", .oneOrMore, "Stage with feedbacks-, labelled-responses- or comparisons-train / -validation sets."),
        InputSlot("reference-cache", .optional, "Another kto stage whose cached reference log-probabilities may be reused."),
    ]

    public struct Parameters: TrainingParameters, DistributedParameters, Equatable {
        /// The loss's coefficients (keys `beta`, `desirable-weight`, `undesirable-weight`, `rpo`).
        public var loss = KTOLoss()
        public var template: ChatTemplate = .plumbline
        /// TRL's KTOTrainer default learning rate (5e-7 for 7B models; small models take more);
        /// `seed` is the seed of the twins' pairing and the data order; each example and its twin
        /// take two of a micro-batch's `rows`.
        public var optimisation = OptimisationGroup(lr: 5e-7, seqLen: 256, rows: 8, epochs: 1)
        public var parallel = DistributedGroup()
        public init() {}

        public func validate() throws {
            try optimisation.validate()
            try loss.validate()
        }
    }

    public struct Summary: StageSummary {
        public var training: TrainingSummary
        /// Examples per split, and of them the desirable ones.
        public var examples: [String: Int]
        public var desirable: [String: Int]
        public var examplesBySource: [String: [String: Int]]
        /// lambda_D n_D / (lambda_U n_U) on the training split (the KTO paper keeps it in [1, 4/3]).
        public var weightBalance: Double
        public var quarantinedIdentical: Int
        public var truncated: Int
        /// Examples whose reference log-probabilities were computed (not cached).
        public var referenceComputed: Int

        public var metrics: [String: Double] {
            var out = training.metrics
            for (split, count) in examples { out["examples.\(split)"] = Double(count) }
            for (split, count) in desirable { out["desirable.\(split)"] = Double(count) }
            for (split, sources) in examplesBySource { for (source, count) in sources { out["examples.\(split).\(source)"] = Double(count) } }
            out["weight_balance"] = weightBalance
            out["quarantined.identical"] = Double(quarantinedIdentical)
            out["truncated"] = Double(truncated)
            out["reference_cached"] = referenceComputed == 0 ? 1 : 0
            out["reference_computed"] = Double(referenceComputed)
            return out
        }
    }

    public struct Loaded {
        var data: KTOData
        var templated: TemplatedTokenizer
        var policy: URL, reference: URL, referenceCache: URL?
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let tokenizerFile = try inputs.one("tokenizer"), policy = try inputs.one("init-from")
        let reference = inputs.optional("reference") ?? policy
        let tokenizerSHA = try SHA256.hex(ofFile: tokenizerFile)
        for (role, stage) in [("policy", policy), ("reference", reference)] {
            try ModelProvenance.check(stage, role: role, tokenizer: tokenizerFile, tokenizerSHA: tokenizerSHA, template: parameters.template)
        }
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizerFile.path), template: parameters.template)
        let data = try KTOData.load(stages: inputs.all("data"))
        log("kto: examples per source: " + data.sources["train"]!.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        return Prepared(Loaded(data: data, templated: templated, policy: policy, reference: reference, referenceCache: inputs.optional("reference-cache")),
                        files: [tokenizerFile, StageModel.inputFile(policy), StageModel.inputFile(reference)] + data.files)
    }

    public static func execute(_ loaded: Loaded, parameters p: Parameters, stage: StageContext) throws -> Summary {
        let data = loaded.data
        try IdenticalResponses.quarantine(data.identical, stage: stage, method: "KTO")
        let train = try KTOData.encode(data.train, templated: loaded.templated, seqLen: p.seqLen, seed: p.seed)
        let validation = try KTOData.encode(data.validation, templated: loaded.templated, seqLen: p.seqLen, seed: p.seed ^ 0x7A11D)
        let attached = try attachReference(["train": train.examples, "validation": validation.examples], loaded: loaded, parameters: p, stage: stage)
        let trainExamples = attached.examples["train"]!, validationExamples = attached.examples["validation"]!
        let nD = trainExamples.filter(\.desirable).count
        let balance = p.loss.weightBalance(desirable: nD, undesirable: trainExamples.count - nD)
        if let notice = balance.notice { stage.log(notice) }
        let model = try StageModel.load(loaded.policy)
        let plan = try KTOObjective.plan(trainExamples, rows: p.rows, seqLen: p.seqLen, accumulation: p.loop.optimization.gradientAccumulation,
                                         epochs: p.epochs, seed: p.seed)
        let objective = try KTOObjective(model: model, train: trainExamples, validation: validationExamples, loss: p.loss,
                                         rows: p.rows, seqLen: p.seqLen, padToken: loaded.templated.info.eosID)
        let training = try TrainingStageRun.train(model, plan: plan, objective: objective, settings: p.loop, stage: stage,
                                                  metadata: ["template": p.template.rawValue])
        return Summary(training: training, examples: ["train": trainExamples.count, "validation": validationExamples.count],
                       desirable: ["train": nD, "validation": validationExamples.filter(\.desirable).count],
                       examplesBySource: data.sources, weightBalance: balance.ratio, quarantinedIdentical: data.identical.count,
                       truncated: train.truncated + validation.truncated, referenceComputed: attached.computed)
    }

    /// The reference's log-probabilities of each example and its twin, through the DPO reference
    /// cache (the example as the pair's first sequence, the twin as its second).
    static func attachReference(_ examples: [String: [KTOExample]], loaded: Loaded, parameters p: Parameters,
                                stage: StageContext) throws -> (examples: [String: [KTOExample]], computed: Int) {
        let pairs = examples.mapValues { split in
            split.map { DPOPair(id: $0.id, chosen: $0.example, rejected: $0.mismatched, referenceChosen: 0, referenceRejected: 0) }
        }
        let attached = try ReferenceLogProbs.attach(
            pairs, reference: loaded.reference, referenceSHA: try SHA256.hex(ofFile: StageModel.inputFile(loaded.reference)),
            seqLen: p.seqLen, padToken: loaded.templated.info.eosID,
            directory: stage.directory.appendingPathComponent(ReferenceLogProbs.directoryName),
            reuse: loaded.referenceCache?.appendingPathComponent(ReferenceLogProbs.directoryName), log: stage.log)
        var out = examples
        for (split, list) in examples {
            out[split] = zip(list, attached.pairs[split]!).map { e, pair in
                var e = e
                e.reference = pair.referenceChosen
                e.mismatchedReference = pair.referenceRejected
                return e
            }
        }
        return (out, attached.computed)
    }
}
