// Rejection sampling: the combined reward's rule, whitening and gate calibration against hand-worked
// cases; the stage's outputs against an independent reading of its samples; samples independent of
// the chunking; a killed stage resumed to the same bytes; bad input refused before any work.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

final class RejectionSamplingTests: XCTestCase {
    // MARK: the combined reward

    func testCombinedRewardRule() {
        let rule = CombinedReward(gateThreshold: 0.15)
        // sigmoid(-1) = 0.269 >= 0.15: the gate stays shut; a helpfulness prompt takes helpfulness.
        XCTAssertEqual(rule.combine(helpfulness: 2, safety: -1, safetyPrompt: false), .init(logit: 2, safetyChosen: false, gateFired: false))
        // A safety prompt always takes the safety score.
        XCTAssertEqual(rule.combine(helpfulness: 2, safety: -1, safetyPrompt: true), .init(logit: -1, safetyChosen: true, gateFired: false))
        // sigmoid(-2) = 0.119 < 0.15: the gate fires on any prompt.
        XCTAssertEqual(rule.combine(helpfulness: 2, safety: -2, safetyPrompt: false), .init(logit: -2, safetyChosen: true, gateFired: true))
        // The boundary: logit(0.15) = -1.7346; just above it the gate stays shut.
        XCTAssertFalse(rule.combine(helpfulness: 0, safety: -1.7345, safetyPrompt: false).gateFired)
        XCTAssertTrue(rule.combine(helpfulness: 0, safety: -1.7347, safetyPrompt: false).gateFired)
        // LOGIT(sigmoid(s)) = s even where sigmoid saturates in Float.
        XCTAssertEqual(rule.combine(helpfulness: 40, safety: 30, safetyPrompt: false).logit, 40)
    }

    func testWhiteningFromSumsMatchesADirectComputation() throws {
        let values: [Double] = [-3, 0.5, 2, 7.25, 1]
        let w = try Whitening(sum: values.reduce(0, +), sumOfSquares: values.reduce(0) { $0 + $1 * $1 }, count: values.count)
        let mean = values.reduce(0, +) / 5
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5).squareRoot()
        XCTAssertEqual(w.mean, mean, accuracy: 1e-12)
        XCTAssertEqual(w.std, std, accuracy: 1e-12)
        let rule = CombinedReward(whitening: w)
        XCTAssertEqual(Double(rule.whitened(7.25)), (7.25 - mean) / std, accuracy: 1e-6)
        XCTAssertThrowsError(try Whitening(sum: 0, sumOfSquares: 0, count: 0))
    }

    /// Unsafe responses score -3, -2, -1, 0 and safe ones -2.5, 1, 2, 3. Recall 0.5 needs the two
    /// lowest unsafe flagged: threshold just above sigmoid(-2), which also flags the safe -2.5.
    func testGateCalibrationTakesTheSmallestThresholdWithTheRecall() throws {
        let labelled: [(score: Float, safe: Bool)] = [(-3, false), (-2, false), (-1, false), (0, false), (-2.5, true), (1, true), (2, true), (3, true)]
        let half = try GateCalibration.calibrate(labelled: labelled, recall: 0.5)
        XCTAssertEqual(half.threshold, (1 / (1 + exp(2.0))).nextUp)
        XCTAssertEqual(half.recall, 0.5)
        XCTAssertEqual(half.precision, 2.0 / 3.0, accuracy: 1e-12)
        let all = try GateCalibration.calibrate(labelled: labelled, recall: 1)
        XCTAssertEqual(all.recall, 1)
        XCTAssertEqual(all.threshold, 0.5.nextUp)
        XCTAssertThrowsError(try GateCalibration.calibrate(labelled: labelled.filter(\.safe), recall: 0.5))
        XCTAssertThrowsError(try GateCalibration.calibrate(labelled: labelled, recall: 0))
    }

    // MARK: the stage

    struct Inputs {
        let tokenizer: URL
        let policy: URL
        let helpfulness: URL
        let safety: URL
        let prompts: URL
        let runs: URL
    }

    func makeInputs() throws -> Inputs { try Self.makeInputs() }

    /// The quick task's RS prompts, a random policy and two random reward models (plain model
    /// directories), all on the fixture's tokenizer. `stopping`: the policy's end-of-sequence logit is
    /// scaled up, so most samples end on it within a few tokens.
    static func makeInputs(stopping: Bool = false) throws -> Inputs {
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("rs-inputs")
        let runs = root.appendingPathComponent("runs")
        let prompts = runs.appendingPathComponent("r/import-prompts")
        if !FileManager.default.fileExists(atPath: prompts.appendingPathComponent("manifest.json").path) {
            try StageFixtures.plumb(["import", f.task.appendingPathComponent("prompts-rs.jsonl").path, "--out", prompts.path,
                                     "--validation-fraction", "0", "--test-fraction", "0"])
        }
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 64)
        func save(_ heads: LlamaHeads, seed: UInt64, name: String) throws -> URL {
            let dir = root.appendingPathComponent(name)
            let model = try LlamaModel(config: config, heads: heads, seed: seed)
            if heads.contains(.reward) { RewardTrainingTests.initialiseHead(model) }
            if name == "policy-stopping" {
                let eos = try XCTUnwrap(try Tokenizer(modelFile: f.tokenizer.path).eosID)
                let row = try (model.weights.lmHead ?? model.weights.embedding).row(Int(eos)).buffer
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                for j in row.indices { row[j] *= 7 / norm }
            }
            try model.save(to: dir)
            return dir
        }
        let policy = try save(.lm, seed: 1, name: stopping ? "policy-stopping" : "policy")
        return Inputs(tokenizer: f.tokenizer, policy: policy, helpfulness: try save(.reward, seed: 2, name: "rm-h"),
                      safety: try save(.reward, seed: 3, name: "rm-s"), prompts: prompts, runs: runs)
    }

    func parameters(perShard: Int) -> RejectionSamplingStage.Parameters { Self.parameters(perShard: perShard) }

    static func parameters(perShard: Int) -> RejectionSamplingStage.Parameters {
        var p = RejectionSamplingStage.Parameters()
        p.k = 4
        p.sampling = SamplingSettings(temperature: 1, topK: 0, topP: 1, maxNewTokens: 12)
        p.limit = 11
        p.promptsPerShard = perShard
        p.maxSequences = 8
        p.gateThreshold = 0.5
        return p
    }

    func run(_ i: Inputs, _ p: RejectionSamplingStage.Parameters, stage: String) throws -> URL { try Self.run(i, p, run: "r", stage: stage) }

    static func run(_ i: Inputs, _ p: RejectionSamplingStage.Parameters, run: String, stage: String) throws -> URL {
        _ = try StageRun.run(RejectionSamplingStage.self, p,
                             inputs: StageInputs(["tokenizer": [i.tokenizer], "policy": [i.policy], "helpfulness": [i.helpfulness],
                                                  "safety": [i.safety], "prompts": [i.prompts]]),
                             location: StageLocation(runsRoot: i.runs, run: run, stage: stage))
        return i.runs.appendingPathComponent("\(run)/\(stage)")
    }

    func read<R: Decodable>(_ type: R.Type, _ output: String, _ stage: URL) throws -> [R] {
        try StageRecordReader.read(type, output: output, from: [stage]).records
    }

    func testBestAndPairsFollowTheCombinedRewardAndChunkingChangesNothing() throws {
        let i = try makeInputs()
        let a = try run(i, parameters(perShard: 4), stage: "rs-a")
        let b = try run(i, parameters(perShard: 11), stage: "rs-b")
        let samples = try read(RejectionSample.self, "samples", a)
        XCTAssertEqual(samples.count, 44)
        XCTAssertEqual(samples, try read(RejectionSample.self, "samples", b), "3 chunks or 1: the same samples")
        XCTAssertEqual(try StageManifest.read(from: a).outputs.first { $0.name == "samples" }?.files.count, 3)

        // An independent reading of the samples: per prompt, the best finished sample by combined
        // reward (ties to the lower index) is the demonstration; best vs worst is the pair.
        let best = try read(Demonstration.self, "demonstrations-train", a)
        let pairs = try read(Comparison.self, "comparisons-train", a)
        var expectedBest: [String] = [], expectedPairs: [(String, String)] = []
        for id in samples.map(\.promptID).reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
            let group = samples.filter { $0.promptID == id }
            XCTAssertEqual(group.map(\.sample), [0, 1, 2, 3])
            for s in group {
                let expect = s.safetyPrompt || 1 / (1 + exp(-Double(s.safety))) < 0.5 ? s.safety : s.helpfulness
                XCTAssertEqual(s.combined, expect)
                XCTAssertEqual(s.safetyPrompt, s.prompt.tags.contains("safety"))
            }
            let finished = group.filter { $0.stop == "eos" }
            guard let top = finished.sorted(by: { $0.combined != $1.combined ? $0.combined > $1.combined : $0.sample < $1.sample }).first else { continue }
            expectedBest.append(top.text)
            let bottom = group.sorted { $0.combined != $1.combined ? $0.combined < $1.combined : $0.sample > $1.sample }.first!
            if bottom.text != top.text && top.combined > bottom.combined { expectedPairs.append((top.text, bottom.text)) }
        }
        XCTAssertEqual(best.map(\.response), expectedBest)
        XCTAssertTrue(best.allSatisfy { $0.origin == .rejectionSampling && $0.round == 1 })
        XCTAssertEqual(pairs.map(\.chosen), expectedPairs.map(\.0))
        XCTAssertEqual(pairs.map(\.rejected), expectedPairs.map(\.1))
        let artifact = try RejectionSamplingStage.RewardArtifact.read(from: a)
        XCTAssertEqual(artifact.reward.whitening?.count, 44)
        XCTAssertEqual(artifact.reward.whitening!.mean, samples.reduce(0.0) { $0 + Double($1.combined) } / 44, accuracy: 1e-9)
    }

    func testKilledStageResumesToTheSameBytes() throws {
        let i = try makeInputs()
        _ = try PlumbProcess.binary()
        func arguments(_ stage: String) -> [String] {
            ["rs", "--tokenizer", i.tokenizer.path, "--policy", i.policy.path, "--helpfulness", i.helpfulness.path, "--safety", i.safety.path,
             "--prompts", i.prompts.path, "--k", "4", "--temperature", "1", "--max-new-tokens", "12", "--limit", "11",
             "--prompts-per-shard", "4", "--max-sequences", "8", "--gate-threshold", "0.5", "--out", i.runs.appendingPathComponent("r/\(stage)").path]
        }
        XCTAssertEqual(try PlumbProcess.run(arguments("rs-whole")).0, 0)
        let (_, reason) = try PlumbProcess.run(arguments("rs-killed"), environment: ["PLUMB_KILL_AFTER_CHUNK": "2"])
        XCTAssertEqual(reason, .uncaughtSignal)
        let killed = i.runs.appendingPathComponent("r/rs-killed")
        XCTAssertEqual(try StageManifest.read(from: killed).status, .running, "a killed stage must not look complete")
        XCTAssertEqual(try PlumbProcess.run(arguments("rs-killed")).0, 0)
        let whole = try StageManifest.read(from: i.runs.appendingPathComponent("r/rs-whole"))
        let resumed = try StageManifest.read(from: killed)
        XCTAssertEqual(resumed.status, .complete)
        XCTAssertEqual(resumed.outputs.map(\.name), whole.outputs.map(\.name))
        for (x, y) in zip(resumed.outputs, whole.outputs) { XCTAssertEqual(x.files.map(\.sha256), y.files.map(\.sha256), x.name) }
    }

    func testBadInputIsRefusedBeforeAnyWork() throws {
        let i = try makeInputs()
        var zero = parameters(perShard: 4)
        zero.k = 0
        XCTAssertThrowsError(try run(i, zero, stage: "rs-k0")) { XCTAssertTrue("\($0)".contains("k: must be at least 1"), "\($0)") }
        var greedy = parameters(perShard: 4)
        greedy.sampling.temperature = 0
        XCTAssertThrowsError(try run(i, greedy, stage: "rs-greedy")) { XCTAssertTrue("\($0)".contains("temperature"), "\($0)") }
        var shares = parameters(perShard: 4)
        (shares.humanRankShare, shares.humanEditShare) = (0.7, 0.5)
        XCTAssertThrowsError(try run(i, shares, stage: "rs-shares")) { XCTAssertTrue("\($0)".contains("human-rank-share: and human-edit-share must"), "\($0)") }
        let empty = try StageWriter.begin(runsRoot: i.runs, run: "r", stage: "no-prompts", kind: "import", config: ["empty": true])
        try empty.complete()
        XCTAssertThrowsError(try StageRun.run(RejectionSamplingStage.self, parameters(perShard: 4),
                                              inputs: StageInputs(["tokenizer": [i.tokenizer], "policy": [i.policy], "helpfulness": [i.helpfulness],
                                                                   "safety": [i.safety], "prompts": [empty.directory]]),
                                                            location: StageLocation(runsRoot: i.runs, run: "r", stage: "rs-empty"))) {
            XCTAssertTrue("\($0)".contains("no prompts"), "\($0)")
        }
        for stage in ["rs-k0", "rs-greedy", "rs-shares", "rs-empty"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: i.runs.appendingPathComponent("r/\(stage)/manifest.json").path), stage)
        }
    }

    /// A model stage trained with another tokenizer file (by checksum) or template is refused, naming both.
    func testModelOfAnotherTokenizerOrTemplateIsRefused() throws {
        let i = try makeInputs()
        let other = i.runs.appendingPathComponent("other.model")
        try Data("not the fixture's tokenizer".utf8).write(to: other)
        let stage = try StageWriter.begin(runsRoot: i.runs, run: "r", stage: "rm-other", kind: "rm", config: ["parameters": ["template": "llama2"]],
                                          inputs: [other])
        try stage.complete()
        let sha = try SHA256.hex(ofFile: i.tokenizer)
        XCTAssertThrowsError(try ModelProvenance.check(stage.directory, role: "safety model", tokenizer: i.tokenizer, tokenizerSHA: sha, template: .plumbline)) {
            XCTAssertTrue("\($0)".contains("other.model") && "\($0)".contains(i.tokenizer.lastPathComponent), "\($0)")
        }
        let same = try StageWriter.begin(runsRoot: i.runs, run: "r", stage: "rm-same", kind: "rm", config: ["parameters": ["template": "llama2"]],
                                         inputs: [i.tokenizer])
        try same.complete()
        XCTAssertThrowsError(try ModelProvenance.check(same.directory, role: "safety model", tokenizer: i.tokenizer, tokenizerSHA: sha, template: .plumbline)) {
            XCTAssertTrue("\($0)".contains("'llama2'"), "\($0)")
        }
        XCTAssertNoThrow(try ModelProvenance.check(same.directory, role: "safety model", tokenizer: i.tokenizer, tokenizerSHA: sha, template: .llama2))
    }
}
