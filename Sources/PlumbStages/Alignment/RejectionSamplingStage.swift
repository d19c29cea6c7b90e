// `plumb rs`: rejection sampling (Llama 2 section 3.2.3; TigerBot; ../shared/docs/METHODS.md section 5).
// For each prompt, k samples from the policy (continuous batching, each prompt's prefill shared by its
// k samples); each sample scored by both reward models and combined by the safety-gated rule
// (CombinedReward); the best finished sample per prompt kept as a demonstration and the best against
// the worst as an on-policy comparison. Outputs, as record shards:
//   samples                  every sample (RejectionSample)
//   demonstrations-train     the best per prompt (origin rejection-sampling, its round): `plumb sft --data`
//   comparisons-train        best vs worst, the combined-logit gap as margin: `plumb rm train` / DPO
//   combined-reward.json     the gate's threshold (and its calibration) and the whitening statistics
//                            of the combined logit over these samples
//   human-*-tasks.json       Label Studio tasks for the prompts routed to human ranking or editing
//                            (HumanTasks; empty lists when both shares are 0), plain for Label Studio
//                            and as manifest artifacts (`.zst`, with the SHA-256 of the plain bytes)
// With earlier rounds (`previous`), a prompt's best is the best over this round's samples and the
// earlier rounds' best, all scored by the current reward models (Llama 2 pools all rounds' best).
//
// Prompts go in chunks of `promptsPerShard`; each chunk's shards are written under `.partial-*` and
// renamed into `chunks/` when whole, so a killed stage resumes at its first missing chunk. A sample's
// seed comes from (seed, prompt id, sample index): the outputs do not depend on the chunking, the
// batch's make-up or the thread count, and a resumed stage ends with the same bytes.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

extension StageKind {
    public static let rs: StageKind = "rs"
}

public enum RejectionSamplingStage: Stage {
    public static let kind = StageKind.rs
    public static let abstract = "Rejection sampling: k samples per prompt, both reward models, the best as demonstrations and best vs worst as comparisons."
    public static let rerun = StageRerun.resume
    public static let slots = [
        InputSlot("tokenizer", .one, "SentencePiece model (.model)."),
        InputSlot("policy", .one, "The policy stage to sample from."),
        InputSlot("helpfulness", .one, "The helpfulness reward model."),
        InputSlot("safety", .one, "The safety reward model."),
        InputSlot("prompts", .oneOrMore, "Import stage whose prompts-* sets are the prompts."),
        InputSlot("gate-data", .any, "Import stage with safety-labelled validation comparisons or labelled responses, to calibrate the gate."),
        InputSlot("previous", .any, "An earlier rs stage whose best samples are pooled."),
    ]

    public struct Parameters: DistributedParameters, Equatable {
        /// Samples per prompt (TigerBot: 10).
        public var k = 10
        /// TigerBot samples at temperature 0.6.
        public var sampling = SamplingSettings(temperature: 0.6, topK: 0, topP: 1, maxNewTokens: 64)
        /// Seed of the samples (with each prompt's id and the sample index).
        public var seed: UInt64 = 1
        /// The gate's threshold on sigmoid(safety score); replaced by a calibrated one when
        /// `gateRecall` is set.
        public var gateThreshold = CombinedReward.llama2Threshold
        /// Calibrate the threshold for this recall of unsafe responses on the validation comparisons'
        /// safety labels (`gateData`).
        public var gateRecall: Double?
        /// Which round of rejection sampling this is (recorded on its demonstrations).
        public var round = 1
        /// At most this many prompts (in order); nil = all.
        public var limit: Int?
        public var promptsPerShard = 128
        /// Sequences decoded at once.
        public var maxSequences = 64
        public var template: ChatTemplate = .plumbline
        /// Shares of the prompts sent to human ranking and to human editing (TigerBot: 5% each),
        /// routed by (seed, prompt id) (HumanRoute).
        public var humanRankShare = 0.0
        public var humanEditShare = 0.0
        public var parallel = DistributedGroup()
        /// Score each sample with this conservative rule over the helpfulness and safety ensembles
        /// (EnsembleScorer); nil: each stage's own model.
        public var conservative: ConservativeRule?
        public init() {}
        public var manifestSeed: UInt64? { seed }

        public func validate() throws {
            guard k >= 1 else { throw StageParameterError("k", "must be at least 1; got \(k)") }
            if sampling.temperature <= 0 && k > 1 {
                throw StageParameterError("temperature", "0 (greedy) gives k identical samples; use a temperature above 0 with k \(k)")
            }
            do { try sampling.sampling.validate() } catch { throw StageParameterError("temperature", "\(error)") }
            guard promptsPerShard > 0 else { throw StageParameterError("prompts-per-shard", "must be positive") }
            if let r = gateRecall, !(r > 0 && r <= 1) { throw StageParameterError("gate-recall", "must be in (0, 1]; got \(r)") }
            guard humanRankShare >= 0, humanEditShare >= 0, humanRankShare + humanEditShare <= 1 else {
                throw StageParameterError("human-rank-share", "and human-edit-share must be at least 0 and add up to at most 1; got \(humanRankShare) and \(humanEditShare)")
            }
        }
    }

    public struct Summary: StageSummary {
        public var prompts = 0
        public var samples = 0
        public var best = 0
        public var pairs = 0
        /// Prompts none of whose samples ended on end-of-sequence (no best, no pair).
        public var noFinishedSample = 0
        /// Prompts whose best came from an earlier round.
        public var bestFromEarlierRounds = 0
        /// Pairs skipped because best and worst had the same text or reward.
        public var pairsSkipped = 0
        public var gateFired = 0
        public var safetyChosen = 0
        public var sampledTokens = 0
        public var samplingSeconds = 0.0
        public var scoringSeconds = 0.0
        public var combinedSum = 0.0
        public var combinedSumSquares = 0.0
        /// Set once the chunks are done (rank 0).
        public var truncatedForScoring = 0
        public var routes: [String: Int] = [:]
        public var humanRankTasks = 0
        public var humanEditTasks = 0
        public var gateThreshold: Double?
        public var whitening: Whitening?

        public var metrics: [String: Double] {
            guard let gateThreshold, let whitening else { return [:] }
            var out: [String: Double] = [:]
            for (name, value) in [("prompts", prompts), ("samples", samples), ("best", best), ("pairs", pairs),
                                  ("no_finished_sample", noFinishedSample), ("best_from_earlier_rounds", bestFromEarlierRounds),
                                  ("pairs_skipped", pairsSkipped), ("gate_fired", gateFired), ("safety_chosen", safetyChosen),
                                  ("sampled_tokens", sampledTokens), ("truncated_for_scoring", truncatedForScoring),
                                  ("human_rank_tasks", humanRankTasks), ("human_edit_tasks", humanEditTasks)] {
                out[name] = Double(value)
            }
            for (route, count) in routes { out["routed.\(route)"] = Double(count) }
            out["gate_threshold"] = gateThreshold
            out["whitening.mean"] = whitening.mean
            out["whitening.std"] = whitening.std
            out["sampling_tokens_per_second"] = Double(sampledTokens) / max(samplingSeconds, 1e-9)
            out["sampling_seconds"] = samplingSeconds
            out["scoring_seconds"] = scoringSeconds
            return out
        }

        mutating func add(_ o: Summary) {
            prompts += o.prompts; samples += o.samples; best += o.best; pairs += o.pairs
            noFinishedSample += o.noFinishedSample; bestFromEarlierRounds += o.bestFromEarlierRounds; pairsSkipped += o.pairsSkipped
            gateFired += o.gateFired; safetyChosen += o.safetyChosen; sampledTokens += o.sampledTokens
            samplingSeconds += o.samplingSeconds; scoringSeconds += o.scoringSeconds
            combinedSum += o.combinedSum; combinedSumSquares += o.combinedSumSquares
        }
    }

    /// What the stage stores beside its shards (`combined-reward.json`).
    public struct RewardArtifact: Codable, Equatable, Sendable {
        public var reward: CombinedReward
        public var calibration: GateCalibration.Result?
        public static let fileName = "combined-reward.json"

        public static func read(from stage: URL) throws -> RewardArtifact {
            let file = stage.appendingPathComponent(fileName)
            do { return try JSONDecoder().decode(RewardArtifact.self, from: Data(contentsOf: file)) } catch {
                throw StageError("\(file.path): cannot read the combined reward: \(error)")
            }
        }
    }

    public struct Loaded {
        var prompts: [PromptRecord]
        var gateComparisons: [Comparison], gateLabelled: [LabelledResponse], previousBest: [Demonstration]
        var tokenizer: URL, policy: URL, helpfulness: URL, safety: URL
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let tokenizer = try inputs.one("tokenizer"), policy = try inputs.one("policy")
        let helpfulness = try inputs.one("helpfulness"), safety = try inputs.one("safety")
        let prompts = try StageRecordReader.readAll(PromptRecord.self, outputPrefix: "prompts-", from: inputs.all("prompts"))
        let chosen = Array(prompts.records.prefix(parameters.limit ?? Int.max))
        guard !chosen.isEmpty else {
            throw StageError("rs: no prompts in the prompts-* sets of \(inputs.all("prompts").map(\.path).joined(separator: ", "))")
        }
        let tokenizerSHA = try SHA256.hex(ofFile: tokenizer)
        for (role, stage) in [("policy", policy), ("helpfulness model", helpfulness), ("safety model", safety)] {
            try ModelProvenance.check(stage, role: role, tokenizer: tokenizer, tokenizerSHA: tokenizerSHA, template: parameters.template)
        }
        let rewardFiles = try EnsembleScorer.rewardFiles(helpfulness: helpfulness, safety: safety, rule: parameters.conservative)
        let gateComparisons = try SourcedComparisons.read(output: "comparisons-validation", from: inputs.all("gate-data"))
        let gateLabelled = try StageRecordReader.read(LabelledResponse.self, output: "labelled-responses-validation", from: inputs.all("gate-data"))
        let previousBest = try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: inputs.all("previous"))
        return Prepared(Loaded(prompts: chosen, gateComparisons: gateComparisons.records, gateLabelled: gateLabelled.records,
                               previousBest: previousBest.records, tokenizer: tokenizer, policy: policy, helpfulness: helpfulness, safety: safety),
                        files: [tokenizer, StageModel.inputFile(policy)] + rewardFiles + prompts.files + gateComparisons.files + gateLabelled.files + previousBest.files)
    }

    public static func execute(_ loaded: Loaded, parameters: Parameters, stage context: StageContext) throws -> Summary {
        let stage = context.writer, log = context.log
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: loaded.tokenizer.path), template: parameters.template)
        let scorer = try CombinedScorer(helpfulness: loaded.helpfulness, safety: loaded.safety,
                                        eos: templated.info.eosID, conservative: parameters.conservative)
        var reward = CombinedReward(gateThreshold: parameters.gateThreshold)
        var calibration: GateCalibration.Result?
        if let recall = parameters.gateRecall {
            calibration = try calibrateGate(loaded.gateComparisons, labelled: loaded.gateLabelled, recall: recall, scorer: scorer, templated: templated)
            reward.gateThreshold = calibration!.threshold
            log(String(format: "rs: gate threshold %.4f for recall %.2f (measured recall %.3f, precision %.3f on %d labelled responses)",
                       calibration!.threshold, recall, calibration!.recall, calibration!.precision, calibration!.labelled))
        }
        let chunks = RejectionSamplingChunks(
            parameters: parameters, stage: stage, reward: reward, scorer: scorer, templated: templated,
            policy: try StageModel.load(loaded.policy), previousBest: Dictionary(grouping: loaded.previousBest, by: \.prompt.id))
        var summary = try chunks.run(loaded.prompts, log: log)
        // Rank 0 alone writes the rest of the stage; another rank's stage is a scratch copy.
        guard Distributed.world.isRoot else { return summary }
        reward.whitening = try Whitening(sum: summary.combinedSum, sumOfSquares: summary.combinedSumSquares, count: summary.samples)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try encoder.encode(RewardArtifact(reward: reward, calibration: calibration)),
                             to: stage.directory.appendingPathComponent(RewardArtifact.fileName))
        let human = try HumanTasks.write(stage: stage.directory, outputs: stage.manifest.outputs, prompts: loaded.prompts, parameters: parameters)
        for file in [HumanTasks.rankFile, HumanTasks.editFile] {
            try stage.storeArtifact(name: file, from: stage.directory.appendingPathComponent(file))
        }
        summary.truncatedForScoring = scorer.truncated
        summary.routes = Dictionary(uniqueKeysWithValues: HumanRoute.allCases.map { ($0.rawValue, human.routes[$0, default: 0]) })
        summary.humanRankTasks = human.rankTasks
        summary.humanEditTasks = human.editTasks
        summary.gateThreshold = reward.gateThreshold
        summary.whitening = reward.whitening
        return summary
    }

    /// The gate's threshold for `recall` on the safety-labelled responses of `comparisons` and the
    /// labelled responses.
    static func calibrateGate(_ comparisons: [Comparison], labelled: [LabelledResponse], recall: Double, scorer: CombinedScorer,
                              templated: TemplatedTokenizer) throws -> GateCalibration.Result {
        var sequences: [TokenizedExample] = [], labels: [Bool] = []
        for c in comparisons {
            for (prompt, text, safe) in [(c.chosenPrompt, c.chosen, c.chosenSafe), (c.rejectedPrompt, c.rejected, c.rejectedSafe)] {
                guard let safe else { continue }
                sequences.append(try templated.encode(prompt: prompt, response: text))
                labels.append(safe)
            }
        }
        for r in labelled {
            sequences.append(try templated.encode(prompt: r.prompt.messages, response: r.response))
            labels.append(r.safe)
        }
        guard !sequences.isEmpty else {
            throw StageError("rs: --gate-recall needs validation comparisons with per-response safety labels (chosen_safe / rejected_safe) or labelled responses; the gate data has neither")
        }
        let scores = try scorer.scores(sequences)
        return try GateCalibration.calibrate(labelled: zip(scores, labels).map { ($0.safety, $1) }, recall: recall)
    }
}
