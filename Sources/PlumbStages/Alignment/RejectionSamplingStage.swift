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

public enum RejectionSamplingStage {
    public struct Parameters: Codable, Equatable, Sendable {
        /// Samples per prompt (TigerBot: 10).
        public var k = 10
        /// TigerBot samples at temperature 0.6.
        public var sampling = SamplingSettings(temperature: 0.6, topK: 0, topP: 1, maxNewTokens: 64)
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
        public init() {}

        func validate() throws {
            guard k >= 1 else { throw StageError("rs: k must be at least 1; got \(k)") }
            guard k <= maxSequences else { throw StageError("rs: k \(k) exceeds the sequences decoded at once (\(maxSequences)); raise --max-sequences") }
            if sampling.temperature <= 0 && k > 1 {
                throw StageError("rs: temperature 0 (greedy) gives k identical samples; use a temperature above 0 with k \(k)")
            }
            try sampling.sampling.validate()
            guard promptsPerShard > 0 else { throw StageError("rs: prompts per shard must be positive") }
            if let r = gateRecall, !(r > 0 && r <= 1) { throw StageError("rs: gate recall must be in (0, 1]; got \(r)") }
            guard humanRankShare >= 0, humanEditShare >= 0, humanRankShare + humanEditShare <= 1 else {
                throw StageError("rs: --human-rank-share and --human-edit-share must be at least 0 and add up to at most 1; got \(humanRankShare) and \(humanEditShare)")
            }
        }
    }

    public struct Inputs: Sendable {
        public var tokenizer: URL
        public var policy: URL
        public var helpfulness: URL
        public var safety: URL
        /// Import stages whose `prompts-*` sets are the prompts.
        public var prompts: [URL]
        /// Import stages whose `comparisons-validation` sets carry safety labels (gate calibration).
        public var gateData: [URL]
        /// Earlier rejection-sampling stages whose best samples are pooled.
        public var previous: [URL]
        public init(tokenizer: URL, policy: URL, helpfulness: URL, safety: URL, prompts: [URL], gateData: [URL] = [], previous: [URL] = []) {
            self.tokenizer = tokenizer; self.policy = policy; self.helpfulness = helpfulness; self.safety = safety
            self.prompts = prompts; self.gateData = gateData; self.previous = previous
        }
    }

    public struct Summary: Codable, Sendable {
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

    struct ResolvedConfig: Encodable {
        var parameters: Parameters
        var policy: String
        var helpfulness: String
        var safety: String
    }

    public static func run(_ parameters: Parameters, inputs: Inputs, location: StageLocation,
                           log: @escaping (String) -> Void = { _ in }) throws -> Summary {
        try parameters.validate()
        let prompts = try StageRecordReader.readAll(PromptRecord.self, outputPrefix: "prompts-", from: inputs.prompts)
        let chosen = Array(prompts.records.prefix(parameters.limit ?? Int.max))
        guard !chosen.isEmpty else {
            throw StageError("rs: no prompts in the prompts-* sets of \(inputs.prompts.map(\.path).joined(separator: ", "))")
        }
        let tokenizerSHA = try SHA256.hex(ofFile: inputs.tokenizer)
        for (role, stage) in [("policy", inputs.policy), ("helpfulness model", inputs.helpfulness), ("safety model", inputs.safety)] {
            try ModelProvenance.check(stage, role: role, tokenizer: inputs.tokenizer, tokenizerSHA: tokenizerSHA, template: parameters.template)
        }
        let gateComparisons = try SourcedComparisons.read(output: "comparisons-validation", from: inputs.gateData)
        let gateLabelled = try StageRecordReader.read(LabelledResponse.self, output: "labelled-responses-validation", from: inputs.gateData)
        let previousBest = try StageRecordReader.read(Demonstration.self, output: "demonstrations-train", from: inputs.previous)
        let stage = try StageWriter.begin(
            runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: "rs",
            config: ResolvedConfig(parameters: parameters, policy: inputs.policy.path, helpfulness: inputs.helpfulness.path, safety: inputs.safety.path),
            inputs: [inputs.tokenizer, StageModel.inputFile(inputs.policy), StageModel.inputFile(inputs.helpfulness), StageModel.inputFile(inputs.safety)]
                + prompts.files + gateComparisons.files + gateLabelled.files + previousBest.files,
            seed: parameters.seed, keepUnfinished: true)
        return try stage.finish {
            let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: inputs.tokenizer.path), template: parameters.template)
            let scorer = try CombinedScorer(helpfulness: inputs.helpfulness, safety: inputs.safety,
                                            eos: templated.info.eosID)
            var reward = CombinedReward(gateThreshold: parameters.gateThreshold)
            var calibration: GateCalibration.Result?
            if let recall = parameters.gateRecall {
                calibration = try calibrateGate(gateComparisons.records, labelled: gateLabelled.records, recall: recall, scorer: scorer, templated: templated)
                reward.gateThreshold = calibration!.threshold
                log(String(format: "rs: gate threshold %.4f for recall %.2f (measured recall %.3f, precision %.3f on %d labelled responses)",
                           calibration!.threshold, recall, calibration!.recall, calibration!.precision, calibration!.labelled))
            }
            let chunks = RejectionSamplingChunks(
                parameters: parameters, stage: stage, reward: reward, scorer: scorer, templated: templated,
                policy: try StageModel.load(inputs.policy), previousBest: Dictionary(grouping: previousBest.records, by: \.prompt.id))
            let summary = try chunks.run(chosen, log: log)
            // Rank 0 alone writes the rest of the stage; another rank's stage is a scratch copy.
            guard Distributed.world.isRoot else { return summary }
            reward.whitening = try Whitening(sum: summary.combinedSum, sumOfSquares: summary.combinedSumSquares, count: summary.samples)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try AtomicFile.write(try encoder.encode(RewardArtifact(reward: reward, calibration: calibration)),
                                 to: stage.directory.appendingPathComponent(RewardArtifact.fileName))
            for (name, value) in [("prompts", summary.prompts), ("samples", summary.samples), ("best", summary.best), ("pairs", summary.pairs),
                                  ("no_finished_sample", summary.noFinishedSample), ("best_from_earlier_rounds", summary.bestFromEarlierRounds),
                                  ("pairs_skipped", summary.pairsSkipped), ("gate_fired", summary.gateFired), ("safety_chosen", summary.safetyChosen),
                                  ("sampled_tokens", summary.sampledTokens), ("truncated_for_scoring", scorer.truncated)] {
                stage.setMetric(name, Double(value))
            }
            let human = try HumanTasks.write(stage: stage.directory, outputs: stage.manifest.outputs, prompts: chosen, parameters: parameters)
            for file in [HumanTasks.rankFile, HumanTasks.editFile] {
                try stage.storeArtifact(name: file, from: stage.directory.appendingPathComponent(file))
            }
            for route in HumanRoute.allCases { stage.setMetric("routed.\(route.rawValue)", Double(human.routes[route, default: 0])) }
            stage.setMetric("human_rank_tasks", Double(human.rankTasks))
            stage.setMetric("human_edit_tasks", Double(human.editTasks))
            stage.setMetric("gate_threshold", reward.gateThreshold)
            stage.setMetric("whitening.mean", reward.whitening!.mean)
            stage.setMetric("whitening.std", reward.whitening!.std)
            stage.setMetric("sampling_tokens_per_second", Double(summary.sampledTokens) / max(summary.samplingSeconds, 1e-9))
            stage.setMetric("sampling_seconds", summary.samplingSeconds)
            stage.setMetric("scoring_seconds", summary.scoringSeconds)
            return summary
        }
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
