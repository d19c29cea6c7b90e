import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import PlumbTensor
import XCTest

/// The three stages end to end on a small synthetic world: a tokenizer trained here, an "SFT" stage
/// holding a fresh tiny model, an import stage of comparisons where the chosen answer says "please".
final class RewardStageTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rm-stage-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    static let words = ["the", "cat", "dog", "sat", "on", "a", "mat", "red", "blue", "big", "small", "runs", "jumps", "over", "under"]

    func sentence(_ rng: inout SeededRNG, please: Bool) -> String {
        var w = (0..<Int.random(in: 3...6, using: &rng)).map { _ in Self.words[Int.random(in: 0..<Self.words.count, using: &rng)] }
        if please { w.insert("please", at: Int.random(in: 0...w.count, using: &rng)) }
        return w.joined(separator: " ")
    }

    func comparisons(_ n: Int, seed: UInt64, split: String) -> [Comparison] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { i in
            Comparison(id: "\(split)-\(i)", prompt: Prompt(messages: [.user(sentence(&rng, please: false))]),
                       chosen: sentence(&rng, please: true), rejected: sentence(&rng, please: false), dimension: .helpfulness,
                       strength: .level(PreferenceLevel.allCases[i % 4]), chosenSafe: true, rejectedSafe: i % 2 == 0,
                       source: SourceRef(file: "synthetic", line: i + 1))
        }
    }

    func makeInputs() throws -> (tokenizer: URL, data: URL, sft: URL) {
        var rng = SeededRNG(seed: 1)
        let corpus = root.appendingPathComponent("corpus.txt")
        try (0..<400).map { _ in sentence(&rng, please: Bool.random(using: &rng)) }.joined(separator: "\n")
            .write(to: corpus, atomically: true, encoding: .utf8)
        var options = TokenizerTrainingOptions()
        options.vocabSize = 320
        options.threads = 1
        let model = try TokenizerTrainer.train(inputFiles: [corpus.path], modelPrefix: root.appendingPathComponent("spm").path, options: options)
        let vocab = try Tokenizer(modelFile: model).vocabSize
        let runs = root.appendingPathComponent("runs")
        let imports = try StageWriter.begin(runsRoot: runs, run: "r", stage: "import", kind: "import", config: ["synthetic": true])
        for (split, n, seed) in [("train", 300, UInt64(2)), ("validation", 40, 3), ("test", 60, 4)] {
            let shards = try imports.shardWriter(name: "comparisons-\(split)")
            for c in comparisons(n, seed: seed, split: split) { try shards.append(c) }
            try imports.addOutput(name: "comparisons-\(split)", files: try shards.finish())
        }
        try imports.complete()
        let sft = try StageWriter.begin(runsRoot: runs, run: "r", stage: "sft", kind: "sft", config: ["synthetic": true])
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: vocab, maxSeqLen: 48)
        try StageModel.save(try LlamaModel(config: config, heads: .lm, seed: 2), to: sft)
        try sft.complete()
        return (URL(fileURLWithPath: model), imports.directory, sft.directory)
    }

    func testTrainEvalScoreEndToEnd() throws {
        let (tokenizer, data, sft) = try makeInputs()
        let runs = root.appendingPathComponent("runs")
        var p = RewardModelStage.Parameters(dimension: .helpfulness)
        p.seqLen = 48; p.rows = 4; p.epochs = 2
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 3e-3), checkpointEvery: 50, evaluateEvery: 0)
        let summary = try StageRun.run(RewardModelStage.self, p, inputs: StageInputs(["tokenizer": [tokenizer], "init-from": [sft], "data": [data]]),
                                               location: StageLocation(runsRoot: runs, run: "r", stage: "rm"))
        let manifest = try StageManifest.read(from: runs.appendingPathComponent("r/rm"))
        XCTAssertEqual(manifest.status, .complete)
        XCTAssertEqual(manifest.metrics["mixture.train.*.helpfulness.taken"], 300, "all helpfulness data")
        XCTAssertEqual(manifest.metrics["mixture.train.*.safety.taken"], 0, "no safety data exists")
        XCTAssertGreaterThan(summary.training.finalEvaluation["val_accuracy"] ?? 0, 0.9, "validation accuracy after \(summary.training.steps) steps")

        let evaluation = try StageRun.run(RewardEvalStage.self, RewardEvalStage.Parameters(),
                                          inputs: StageInputs(["tokenizer": [tokenizer], "model": [runs.appendingPathComponent("r/rm")], "data": [data]]),
                                                 location: StageLocation(runsRoot: runs, run: "r", stage: "rm-eval"))
        XCTAssertEqual(evaluation.overall.total, 60)
        XCTAssertGreaterThan(evaluation.overall.accuracy, 0.9)
        XCTAssertEqual(evaluation.unsafe.labelled, 120)
        let evalManifest = try StageManifest.read(from: runs.appendingPathComponent("r/rm-eval"))
        XCTAssertEqual(evalManifest.metrics["score.mean"] ?? .nan, evaluation.scores.mean, accuracy: 1e-12)
        XCTAssertEqual(evalManifest.metrics["pairs.strength.better"], 15)
        struct Evaluated: Decodable { var id: String; var chosen_score: Float; var rejected_score: Float }
        let evaluated = try StageRecordReader.read(Evaluated.self, output: "scored-test", from: [runs.appendingPathComponent("r/rm-eval")]).records
        XCTAssertEqual(evaluated.map(\.id), (0..<60).map { "test-\($0)" }, "every evaluated comparison written, in order")
        let wins = evaluated.filter { $0.chosen_score > $0.rejected_score }.count
        XCTAssertEqual(Double(wins) / 60, evaluation.overall.accuracy, accuracy: 1e-12, "the written scores give the reported accuracy")

        var scoring = RewardScoreStage.Parameters()
        scoring.outputs = ["comparisons-test"]
        let counts = try StageRun.run(RewardScoreStage.self, scoring,
                                      inputs: StageInputs(["tokenizer": [tokenizer], "model": [runs.appendingPathComponent("r/rm")], "data": [data]]),
                                      location: StageLocation(runsRoot: runs, run: "r", stage: "rm-score")).scored
        XCTAssertEqual(counts["comparisons-test"], 60)
        struct Scored: Decodable { var chosen_score: Double; var rejected_score: Double; var id: String }
        let scored = try StageRecordReader.read(Scored.self, output: "comparisons-test", from: [runs.appendingPathComponent("r/rm-score")]).records
        let mean = scored.reduce(0) { $0 + $1.chosen_score + $1.rejected_score } / Double(2 * scored.count)
        XCTAssertEqual(mean, evaluation.scores.mean, accuracy: 1e-5, "rm score and rm eval give the same scores")
        XCTAssertEqual(scored.map(\.id), (0..<60).map { "test-\($0)" }, "records kept in order")
        XCTAssertNoThrow(try StageRecordReader.read(Comparison.self, output: "comparisons-test", from: [runs.appendingPathComponent("r/rm-score")]),
                         "scored records still read as comparisons")
    }

    /// A reward model with the likelihood term keeps its LM head and `reward.json`; rm eval and
    /// rm score read them back and give the same scores.
    func testLikelihoodTermTravelsWithTheModel() throws {
        let (tokenizer, data, sft) = try makeInputs()
        let runs = root.appendingPathComponent("runs")
        var p = RewardModelStage.Parameters(dimension: .helpfulness)
        p.seqLen = 48; p.rows = 4; p.epochs = 1
        p.likelihood = .mean
        p.likelihoodWeight = 0.5
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 3e-3), checkpointEvery: 0, evaluateEvery: 0)
        _ = try StageRun.run(RewardModelStage.self, p, inputs: StageInputs(["tokenizer": [tokenizer], "init-from": [sft], "data": [data]]),
                                     location: StageLocation(runsRoot: runs, run: "r", stage: "rm"))
        let rm = runs.appendingPathComponent("r/rm")
        XCTAssertEqual(try RewardLikelihoodTerm.load(from: rm), p.likelihoodTerm)
        XCTAssertEqual(try RewardLikelihoodTerm.load(from: sft), .none, "no reward.json: a plain reward head")
        let evaluation = try StageRun.run(RewardEvalStage.self, RewardEvalStage.Parameters(),
                                          inputs: StageInputs(["tokenizer": [tokenizer], "model": [rm], "data": [data]]),
                                                 location: StageLocation(runsRoot: runs, run: "r", stage: "rm-eval"))
        var scoring = RewardScoreStage.Parameters()
        scoring.outputs = ["comparisons-test"]
        _ = try StageRun.run(RewardScoreStage.self, scoring, inputs: StageInputs(["tokenizer": [tokenizer], "model": [rm], "data": [data]]),
                                     location: StageLocation(runsRoot: runs, run: "r", stage: "rm-score"))
        struct Scored: Decodable { var chosen_score: Double; var rejected_score: Double }
        let scored = try StageRecordReader.read(Scored.self, output: "comparisons-test", from: [runs.appendingPathComponent("r/rm-score")]).records
        let mean = scored.reduce(0) { $0 + $1.chosen_score + $1.rejected_score } / Double(2 * scored.count)
        XCTAssertEqual(mean, evaluation.scores.mean, accuracy: 1e-5)
        // Without its LM head the saved model cannot give the scores it was trained for.
        XCTAssertThrowsError(try RewardScorer(model: try StageModel.load(rm, heads: .reward), seqLen: 48, padToken: 2, likelihood: p.likelihoodTerm))
    }

    /// A policy's likelihood in place of the reward head: the sum over a response's tokens ranks
    /// pairs, the mean divides by the token count, and against itself as reference every score is 0.
    func testLikelihoodScoringOfAPolicy() throws {
        let (tokenizer, data, sft) = try makeInputs()
        let runs = root.appendingPathComponent("runs")
        func evaluate(_ scoring: RewardEvalStage.Scoring, reference: URL? = nil, stage: String) throws -> RewardEvaluation {
            var p = RewardEvalStage.Parameters()
            p.scoring = scoring
            return try StageRun.run(RewardEvalStage.self, p,
                                   inputs: StageInputs(["tokenizer": [tokenizer], "model": [sft], "data": [data], "reference": reference.map { [$0] } ?? []]),
                                           location: StageLocation(runsRoot: runs, run: "r", stage: stage))
        }
        let sum = try evaluate(.likelihood, stage: "sum"), mean = try evaluate(.meanLikelihood, stage: "mean")
        XCTAssertEqual(sum.overall.total, 60)
        XCTAssertLessThan(sum.scores.max, 0, "log-likelihoods are negative")
        XCTAssertLessThan(sum.scores.mean, mean.scores.mean, "a sum over several tokens is below their mean")
        let against = try evaluate(.likelihood, reference: sft, stage: "self")
        XCTAssertEqual(against.scores.min, 0); XCTAssertEqual(against.scores.max, 0)
        XCTAssertThrowsError(try evaluate(.rewardHead, reference: sft, stage: "bad"))
    }

    /// A run that stopped after a mid-run checkpoint resumes from it and ends with the same weights,
    /// bit for bit, as the uninterrupted run. (The stop is simulated: the final checkpoint and model
    /// of a finished run are removed and its manifest set back to failed, as a killed run leaves it.)
    func testResumeFromAMidRunCheckpointGivesTheSameWeights() throws {
        let (tokenizer, data, sft) = try makeInputs()
        let runs = root.appendingPathComponent("runs"), stageDir = runs.appendingPathComponent("r/rm")
        var p = RewardModelStage.Parameters(dimension: .helpfulness)
        p.seqLen = 48; p.rows = 4; p.epochs = 1
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 3e-3), checkpointEvery: 10, evaluateEvery: 0, keepCheckpoints: 2)
        let inputs = StageInputs(["tokenizer": [tokenizer], "init-from": [sft], "data": [data]])
        let location = StageLocation(runsRoot: runs, run: "r", stage: "rm")
        let full = try StageRun.run(RewardModelStage.self, p, inputs: inputs, location: location).training
        let uninterrupted = try StageModel.load(stageDir, heads: .reward).tensors()
        let checkpoints = try TrainingCheckpoint.list(stageDir.appendingPathComponent("checkpoints"))
        XCTAssertEqual(checkpoints.count, 2)
        try FileManager.default.removeItem(at: checkpoints.last!)
        var manifest = try StageManifest.read(from: stageDir)
        manifest.status = .failed
        try manifest.write(to: stageDir)
        let resumed = try StageRun.run(RewardModelStage.self, p, inputs: inputs, location: location).training
        XCTAssertGreaterThan(resumed.resumedAtStep, 0)
        XCTAssertLessThan(resumed.resumedAtStep, full.steps)
        let after = try StageModel.load(stageDir, heads: .reward).tensors()
        XCTAssertEqual(Set(after.keys), Set(uninterrupted.keys))
        for (name, t) in uninterrupted {
            let u = Array(UnsafeBufferPointer(start: t.pointer, count: t.count)), a = after[name]!
            XCTAssertEqual(u, Array(UnsafeBufferPointer(start: a.pointer, count: a.count)), name)
        }
    }

    func testScoringARecordWithoutResponsesNamesFileAndRecord() throws {
        let (tokenizer, data, sft) = try makeInputs()
        let runs = root.appendingPathComponent("runs")
        let bad = try StageWriter.begin(runsRoot: runs, run: "r", stage: "bad", kind: "import", config: ["bad": true])
        let shards = try bad.shardWriter(name: "comparisons-test")
        try shards.append(jsonLine: #"{"schema":"comparison/1","id":"x","prompt":{"id":"p","messages":[],"tags":[]}}"#)
        try bad.addOutput(name: "comparisons-test", files: try shards.finish())
        try bad.complete()
        // A reward model to score with: the SFT trunk with a fresh head, saved as a stage.
        let rm = try StageWriter.begin(runsRoot: runs, run: "r", stage: "rm0", kind: "rm", config: ["x": 1])
        try StageModel.save(try RewardModelStage.initialModel(sft, vocabSize: try Tokenizer(modelFile: tokenizer.path).vocabSize, seqLen: 48, seed: 1), to: rm)
        try rm.complete()
        _ = data
        XCTAssertThrowsError(try StageRun.run(RewardScoreStage.self, RewardScoreStage.Parameters(),
                                              inputs: StageInputs(["tokenizer": [tokenizer], "model": [rm.directory], "data": [bad.directory]]),
                                                      location: StageLocation(runsRoot: runs, run: "r", stage: "rm-score"))) { error in
            XCTAssertTrue("\(error)".contains("comparisons-test") && "\(error)".contains("record 1"), "\(error)")
            XCTAssertTrue("\(error)".contains("neither 'response' nor 'chosen' and 'rejected'"), "\(error)")
        }
    }
}
