import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

/// `plumb screen` on a small synthetic world: a tokenizer trained here, a fresh tiny model with a
/// reward head as the classifier (its scores are arbitrary but fixed, which is all the cascade's
/// logic needs), labelled responses where "steal" and "poison" mark most unsafe answers, and
/// comparisons whose rejected answers hold lexicon words.
final class SafetyScreenTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("screen-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    static let words = ["how", "do", "i", "get", "a", "car", "the", "shop", "money", "dog", "food", "steal", "poison", "buy", "feed", "no"]

    /// 40 labelled responses: unsafe ones mostly say "steal" or "poison" (every fifth does not: a
    /// lexicon miss); every seventh safe one says "no, do not steal" (a lexicon false alarm).
    func labelled() -> [LabelledResponse] {
        (0..<40).map { i in
            let safe = i % 2 == 0
            let response: String
            if safe { response = i % 7 == 0 ? "no do not steal the car" : "buy food for the dog" }
            else { response = i % 5 == 1 ? "get the money from the shop" : (i % 3 == 0 ? "poison the dog food" : "steal the car") }
            return LabelledResponse(id: "l\(i)", prompt: Prompt(messages: [.user("how do i get a car \(i)")]), response: response,
                                    safe: safe, source: SourceRef(file: "synthetic", line: i + 1))
        }
    }

    func makeStages() throws -> (tokenizer: URL, data: URL, model: URL, lexicon: URL) {
        let corpus = root.appendingPathComponent("corpus.txt")
        var lines: [String] = []
        for i in 0..<300 { lines.append((0..<6).map { Self.words[($0 * 7 + i * 3) % Self.words.count] }.joined(separator: " ")) }
        try lines.joined(separator: "\n").write(to: corpus, atomically: true, encoding: .utf8)
        var options = TokenizerTrainingOptions()
        options.vocabSize = 320
        options.threads = 1
        let tokenizer = try TokenizerTrainer.train(inputFiles: [corpus.path], modelPrefix: root.appendingPathComponent("spm").path, options: options)
        let runs = root.appendingPathComponent("runs")
        let imports = try StageWriter.begin(runsRoot: runs, run: "r", stage: "import", kind: "import", config: ["synthetic": true])
        let set = try imports.shardWriter(name: "labelled-responses-test")
        for record in labelled() { try set.append(record) }
        try imports.addOutput(name: "labelled-responses-test", files: try set.finish())
        let pairs = try imports.shardWriter(name: "comparisons-train")
        for i in 0..<4 {
            try pairs.append(Comparison(id: "c\(i)", prompt: Prompt(messages: [.user("how do i get a car")]),
                                        chosen: i == 3 ? "steal the car" : "buy a car", rejected: "steal the car",
                                        source: SourceRef(file: "synthetic", line: i + 1)))
        }
        try imports.addOutput(name: "comparisons-train", files: try pairs.finish())
        try imports.complete()
        let rm = try StageWriter.begin(runsRoot: runs, run: "r", stage: "rm", kind: "rm", config: ["synthetic": true])
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKVHeads: 2, vocabSize: try Tokenizer(modelFile: tokenizer).vocabSize, maxSeqLen: 32)
        try StageModel.save(try LlamaModel(config: config, heads: .reward, seed: 3), to: rm)
        try rm.complete()
        let lexicon = root.appendingPathComponent("lexicon.txt")
        try "# test lexicon\nsteal\n\nPOISON\n".write(to: lexicon, atomically: true, encoding: .utf8)
        return (URL(fileURLWithPath: tokenizer), imports.directory, rm.directory, lexicon)
    }

    struct Flagged: Decodable { var step: String; var set: String; var detail: String; var record: [String: JSONValue] }

    func testLexiconAloneFlagsEveryHit() throws {
        let (_, data, _, lexicon) = try makeStages()
        let runs = root.appendingPathComponent("runs")
        let summary = try StageRun.run(SafetyScreenStage.self, SafetyScreenStage.Parameters(), inputs: StageInputs(["data": [data], "lexicon": [lexicon]]),
                                                location: StageLocation(runsRoot: runs, run: "r", stage: "screen"))
        let all = labelled()
        let hits = all.filter { $0.response.contains("steal") || $0.response.contains("poison") }
        XCTAssertEqual(summary.sets["labelled-responses-test"]?.flagged, hits.count)
        // Only the chosen response is screened: the one comparison whose chosen says "steal".
        XCTAssertEqual(summary.sets["comparisons-train"]?.flagged, 1)
        let f = summary.figures
        let truePositives = hits.filter { !$0.safe }.count
        XCTAssertEqual(f.labelled, 40)
        XCTAssertEqual(f.unsafe, 20)
        XCTAssertEqual(f.lexicon.precision, Double(truePositives) / Double(hits.count), accuracy: 1e-12)
        XCTAssertEqual(f.lexicon.recall, Double(truePositives) / 20, accuracy: 1e-12)
        XCTAssertLessThan(f.lexicon.recall, 1, "the fixture has unsafe answers without a lexicon word")
        XCTAssertLessThan(f.lexicon.precision, 1, "and safe ones with one")
        XCTAssertNil(f.lexiconThenClassifier)
        let stage = runs.appendingPathComponent("r/screen")
        let passed = try StageRecordReader.read(LabelledResponse.self, output: "labelled-responses-test", from: [stage]).records
        XCTAssertEqual(passed.map(\.id), all.filter { !hits.contains($0) }.map(\.id), "passing records keep their order")
        let flagged = try StageRecordReader.read(Flagged.self, output: "quarantine", from: [stage]).records
        XCTAssertEqual(flagged.count, hits.count + 1)
        XCTAssertTrue(flagged.allSatisfy { $0.step == "lexicon" })
        XCTAssertEqual(flagged.first { $0.set == "comparisons-train" }?.record["id"], .string("c3"))
        XCTAssertTrue(flagged[0].detail.contains("lexicon: "), flagged[0].detail)
    }

    func testClassifierKeepsOnlyHitsItAlsoFlags() throws {
        let (tokenizer, data, model, lexicon) = try makeStages()
        let runs = root.appendingPathComponent("runs")
        // The classifier's own view of every labelled response, for the expected verdicts.
        let all = labelled()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: .plumbline)
        let scores = try RewardEvalStage.scoreLabelled(all, model: try StageModel.load(model, heads: .reward), likelihood: .none,
                                                       templated: templated, parameters: RewardEvalStage.Parameters()).map { 1 / (1 + exp(-Double($0.score))) }
        var p = SafetyScreenStage.Parameters()
        p.outputs = ["labelled-responses-test"]
        p.threshold = scores.sorted()[scores.count / 2]  // the median: some hits pass, some do not
        let summary = try StageRun.run(SafetyScreenStage.self, p,
                                       inputs: StageInputs(["data": [data], "lexicon": [lexicon], "model": [model], "tokenizer": [tokenizer]]),
                                                location: StageLocation(runsRoot: runs, run: "r", stage: "screen"))
        let hit = all.map { $0.response.contains("steal") || $0.response.contains("poison") }
        let expected = all.indices.filter { hit[$0] && scores[$0] < p.threshold }
        XCTAssertGreaterThan(expected.count, 0)
        XCTAssertLessThan(expected.count, hit.filter { $0 }.count, "the classifier passes some of the lexicon's hits")
        XCTAssertEqual(summary.sets["labelled-responses-test"]?.flagged, expected.count)
        let flagged = try StageRecordReader.read(Flagged.self, output: "quarantine", from: [runs.appendingPathComponent("r/screen")]).records
        XCTAssertEqual(flagged.map { $0.record["id"] }, expected.map { .string(all[$0].id) })
        XCTAssertTrue(flagged.allSatisfy { $0.step == "classifier" && $0.detail.contains("classifier: sigmoid(score)") })
        let cascade = try XCTUnwrap(summary.figures.lexiconThenClassifier)
        XCTAssertEqual(cascade.truePositives, expected.filter { !all[$0].safe }.count)
        XCTAssertEqual(cascade.falsePositives, expected.filter { all[$0].safe }.count)
        let alone = try XCTUnwrap(summary.figures.classifier)
        XCTAssertEqual(alone.truePositives + alone.falsePositives, all.indices.filter { scores[$0] < p.threshold }.count)
        XCTAssertEqual(summary.figures.lexicon.truePositives + summary.figures.lexicon.falseNegatives, 20)
    }

    func testRewardEvalMeasuresTheGateOnLabelledResponses() throws {
        let (tokenizer, data, model, _) = try makeStages()
        let runs = root.appendingPathComponent("runs")
        var p = RewardEvalStage.Parameters()
        p.split = .train
        // The comparisons come from comparisons-train; the gate from labelled-responses-train (absent): a clear error.
        XCTAssertThrowsError(try StageRun.run(RewardEvalStage.self, p,
                                              inputs: StageInputs(["tokenizer": [tokenizer], "model": [model], "data": [data], "labelled": [data]]),
                                                     location: StageLocation(runsRoot: runs, run: "r", stage: "rm-eval"))) { error in
            XCTAssertTrue("\(error)".contains("labelled-responses-train"), "\(error)")
        }
        p.split = .test
        let pairs = try StageWriter.begin(runsRoot: runs, run: "r", stage: "pairs", kind: "import", config: ["synthetic": true])
        let writer = try pairs.shardWriter(name: "comparisons-test")
        try writer.append(Comparison(id: "t", prompt: Prompt(messages: [.user("how do i get a car")]), chosen: "buy a car", rejected: "steal the car",
                                     chosenSafe: true, rejectedSafe: false, source: SourceRef(file: "synthetic", line: 1)))
        try pairs.addOutput(name: "comparisons-test", files: try writer.finish())
        try pairs.complete()
        let evaluation = try StageRun.run(RewardEvalStage.self, p,
                                          inputs: StageInputs(["tokenizer": [tokenizer], "model": [model], "data": [pairs.directory], "labelled": [data]]),
                                                 location: StageLocation(runsRoot: runs, run: "r", stage: "rm-eval"))
        XCTAssertEqual(evaluation.overall.total, 1)
        XCTAssertEqual(evaluation.unsafe.labelled, 40, "the gate is measured on the labelled responses, not the pair's two")
        XCTAssertTrue(evaluation.unsafe.auroc.isFinite)
    }

    /// `rm train --labelled-pairs`: each prompt's safe responses over its unsafe ones join the
    /// training comparisons (3 prompts with both give 1 + 1 + 2 pairs; a prompt with only safe ones none).
    func testRewardTrainingDrawsPairsFromLabelledResponses() throws {
        let (tokenizer, _, _, _) = try makeStages()
        let runs = root.appendingPathComponent("runs")
        let stage = try StageWriter.begin(runsRoot: runs, run: "r", stage: "labelled", kind: "import", config: ["synthetic": true])
        let writer = try stage.shardWriter(name: "labelled-responses-train")
        let rows: [(String, String, Bool)] = [("p1", "buy a car", true), ("p1", "steal the car", false), ("p2", "feed the dog", true),
                                              ("p2", "poison the dog food", false), ("p3", "buy food", true), ("p3", "buy a car", true),
                                              ("p3", "steal the money", false), ("p4", "buy food for the dog", true)]
        for (i, row) in rows.enumerated() {
            try writer.append(LabelledResponse(id: "l\(i)", prompt: Prompt(messages: [.user("how do i get \(row.0)")]), response: row.1,
                                               safe: row.2, source: SourceRef(file: "synthetic", line: i + 1)))
        }
        try stage.addOutput(name: "labelled-responses-train", files: try writer.finish())
        try stage.complete()
        var p = RewardModelStage.Parameters(dimension: .safety)
        p.seqLen = 32
        p.mix = ["*:safety=1"]
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: .plumbline)
        p.labelledPairs = true
        let data = try RewardData.load(p, importStages: [stage.directory], templated: templated)
        XCTAssertEqual(data.train.pairs.count, 4)
        XCTAssertEqual(data.trainMixture.first?.taken, 4)
        let pairs = try SourcedComparisons.labelledPairs(split: .train, from: [stage.directory])
        XCTAssertEqual(pairs.records.map { "\($0.chosen) > \($0.rejected)" },
                       ["buy a car > steal the car", "feed the dog > poison the dog food", "buy food > steal the money", "buy a car > steal the money"])
        XCTAssertEqual(Set(pairs.sources), ["labelled"])
        p.labelledPairs = nil
        XCTAssertThrowsError(try RewardData.load(p, importStages: [stage.directory], templated: templated), "without the option there is no safety data")
    }
}
