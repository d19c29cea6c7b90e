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

extension StageKind {
    public static let dpo: StageKind = "dpo"
}

public enum DPOStage: Stage {
    public static let kind = StageKind.dpo
    public static let abstract = "Direct preference optimisation of a policy on comparisons (import or rs stages), the reference's log-probabilities computed once and cached."
    public static let rerun = StageRerun.resume
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
        InputSlot("init-from", .one, "Policy stage (SFT or RS) to start from."),
        InputSlot("reference", .optional, "Reference policy stage (default: init-from)."),
        InputSlot("data", .oneOrMore, "Stage with comparisons-train / comparisons-validation sets."),
        InputSlot("reference-cache", .optional, "Another dpo stage whose cached reference log-probabilities may be reused."),
    ]

    public struct Parameters: TrainingParameters, DistributedParameters, Equatable {
        /// The loss and its coefficients (keys `loss`, `beta`, `label-smoothing`, `rpo`, `length-normalised`, `gamma`).
        public var loss = DPOLoss()
        public var template: ChatTemplate = .plumbline
        /// Mixture components SOURCE=WEIGHT or SOURCE:DIMENSION=WEIGHT (MixtureWeight; SOURCE a `data`
        /// stage's directory name or *): shares, the scarcest weighted source taken whole, as rm
        /// train's; a source no component names is left out. Empty: every comparison once.
        public var mix: [String] = []
        /// TRL's default learning rate for DPO (1e-6 for 7B models; small models take more); `seed`
        /// is the seed of the mixture's pick and the data order.
        public var optimisation = OptimisationGroup(lr: 1e-6, seqLen: 256, rows: 8, epochs: 1)
        public var parallel = DistributedGroup()
        /// Train a LoRA adapter over the frozen `init-from` policy; the default reference is then that
        /// base with the adapter off (its log-probabilities cached as without LoRA). LoRASettings.
        public var lora: LoRASettings?
        public init() {}

        public func validate() throws {
            try optimisation.validate()
            do { try loss.validate() } catch { throw StageParameterError("loss", "\(error)") }
            do { _ = try mixture } catch let error as StageError { throw StageParameterError("mix", error.description) }
        }

        /// The mixture `mix` gives (nil: every comparison once).
        public var mixture: RewardMixture? {
            get throws { try RewardMixture.parse(mix, requireDimension: false) }
        }
    }

    public struct Summary: StageSummary {
        public var training: TrainingSummary
        public var pairs: [String: Int]
        public var pairsBySource: [String: [String: Int]]
        public var mixture: [String: [MixtureComponentReport]]
        public var quarantinedIdentical: Int
        public var truncated: Int
        /// Pairs whose reference log-probabilities were computed (not cached); nil for SimPO and
        /// ORPO, which read no reference.
        public var referenceComputed: Int?

        public var metrics: [String: Double] {
            var out = training.metrics
            for (split, count) in pairs { out["pairs.\(split)"] = Double(count) }
            for (split, sources) in pairsBySource { for (source, count) in sources { out["pairs.\(split).\(source)"] = Double(count) } }
            for (split, report) in mixture { out.merge(MixtureComponentReport.metrics(report, split: split)) { $1 } }
            out["quarantined.identical"] = Double(quarantinedIdentical)
            out["truncated"] = Double(truncated)
            if let referenceComputed {
                out["reference_cached"] = referenceComputed == 0 ? 1 : 0
                out["reference_computed"] = Double(referenceComputed)
            }
            return out
        }
    }

    public struct Loaded {
        var data: DPOData
        var tokenizer: URL, policy: URL, reference: URL, referenceCache: URL?
        var eos: Int32
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

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let tokenizerFile = try inputs.one("tokenizer"), policy = try inputs.one("init-from"), data = inputs.all("data")
        do { try parameters.mixture?.validate(sources: SourcedComparisons.names(of: data)) } catch let error as StageError {
            throw StageParameterError("mix", error.description)
        }
        if !parameters.loss.kind.needsReference, inputs.optional("reference") != nil || inputs.optional("reference-cache") != nil {
            throw StageError("dpo: loss \(parameters.loss.kind.rawValue) uses no reference policy; drop the reference and reference-cache inputs")
        }
        let reference = inputs.optional("reference") ?? policy
        let tokenizer = try Tokenizer(modelFile: tokenizerFile.path)
        let tokenizerSHA = try SHA256.hex(ofFile: tokenizerFile)
        for (role, stage) in [("policy", policy), ("reference", reference)] {
            try ModelProvenance.check(stage, role: role, tokenizer: tokenizerFile, tokenizerSHA: tokenizerSHA, template: parameters.template)
        }
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: parameters.template)
        let loaded = try DPOData.load(parameters, stages: data, templated: templated)
        log(loaded.summary(try parameters.mixture))
        return Prepared(Loaded(data: loaded, tokenizer: tokenizerFile, policy: policy, reference: reference,
                               referenceCache: inputs.optional("reference-cache"), eos: templated.info.eosID),
                        files: [tokenizerFile, StageModel.inputFile(policy), StageModel.inputFile(reference)] + loaded.files)
    }

    public static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> Summary {
        let data = loaded.data, encodedTrain = data.train, encodedValidation = data.validation
        try IdenticalResponses.quarantine(encodedTrain.identical + encodedValidation.identical, stage: stage, method: "DPO")
        // SimPO and ORPO read no reference log-probabilities: none are computed.
        let needsReference = parameters.loss.kind.needsReference
        let attached = needsReference ? try ReferenceLogProbs.attach(
            ["train": encodedTrain.pairs, "validation": encodedValidation.pairs], reference: loaded.reference,
            referenceSHA: try SHA256.hex(ofFile: StageModel.inputFile(loaded.reference)), seqLen: parameters.seqLen,
            padToken: loaded.eos, directory: stage.directory.appendingPathComponent(ReferenceLogProbs.directoryName),
            reuse: loaded.referenceCache?.appendingPathComponent(ReferenceLogProbs.directoryName), log: stage.log)
            : (pairs: ["train": encodedTrain.pairs, "validation": encodedValidation.pairs], computed: 0)
        let trainPairs = attached.pairs["train"]!, validationPairs = attached.pairs["validation"]!
        let loadedModel = try StageModel.load(loaded.policy, gradients: parameters.lora == nil)
        let lora = try LoRAStageSetup(parameters.lora, model: loadedModel, base: loaded.policy, seed: parameters.seed, loop: parameters.loop)
        let model = lora.model
        let plan = try RewardBatches.plan(lengths: trainPairs.map { ($0.chosen.tokens.count, $0.rejected.tokens.count) },
                                          records: Array(trainPairs.indices), rows: parameters.rows, seqLen: parameters.seqLen,
                                          accumulation: parameters.loop.optimization.gradientAccumulation, epochs: parameters.epochs,
                                          seed: parameters.seed)
        let objective = try DPOObjective(model: model, train: trainPairs, validation: validationPairs, loss: parameters.loss,
                                         rows: parameters.rows, seqLen: parameters.seqLen, padToken: loaded.eos, adapter: lora.adapter)
        let training = try TrainingStageRun.train(model, adapter: lora.adapter, base: lora.base, plan: plan, objective: objective,
                                                  settings: lora.loop, stage: stage, metadata: ["template": parameters.template.rawValue])
        func counts(_ sources: [(source: String, count: Int)]) -> [String: Int] {
            Dictionary(sources.map { ($0.source, $0.count) }, uniquingKeysWith: +)
        }
        return Summary(training: training, pairs: ["train": trainPairs.count, "validation": validationPairs.count],
                       pairsBySource: ["train": counts(data.trainSources), "validation": counts(data.validationSources)],
                       mixture: ["train": data.trainMixture, "validation": data.validationMixture],
                       quarantinedIdentical: encodedTrain.identical.count + encodedValidation.identical.count,
                       truncated: encodedTrain.truncated + encodedValidation.truncated, referenceComputed: needsReference ? attached.computed : nil)
    }
}
