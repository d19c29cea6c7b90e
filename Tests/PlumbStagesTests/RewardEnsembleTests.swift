import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

/// The conservative rules by hand (Coste et al. 2023's formulas, ConservativeReward.swift).
final class ConservativeRuleTests: XCTestCase {
    // z = (1, 2, 6): mean 3; deviations (-2, -1, 3), squares 4 + 1 + 9 = 14, population variance
    // 14/3 = 4.666667, std 2.160247.
    let z = [1.0, 2.0, 6.0]

    func testEachRuleAgainstAHandComputation() {
        // Tolerance 1e-12: a handful of Double operations on small integers.
        XCTAssertEqual(ConservativeRule.mean.reduce(z), 3, accuracy: 1e-12)
        XCTAssertEqual(ConservativeRule.meanMinusStd(lambda: 1).reduce(z), 3 - (14.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(ConservativeRule.meanMinusStd(lambda: 1).reduce(z), 0.839753, accuracy: 1e-6)
        XCTAssertEqual(ConservativeRule.worst.reduce(z), 1)
        XCTAssertEqual(ConservativeRule.uncertaintyWeighted(lambda: 0.5).reduce(z), 3 - 0.5 * 14.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(ConservativeRule.uncertaintyWeighted(lambda: 0.5).reduce(z), 0.666667, accuracy: 1e-6)
        XCTAssertEqual(ConservativeRule.meanMinusStd(lambda: 0).reduce(z), 3, accuracy: 1e-12, "lambda 0 is the mean")
        // Members that agree carry no penalty: every rule gives their common score.
        for rule in [ConservativeRule.mean, .meanMinusStd(lambda: 2), .worst, .uncertaintyWeighted(lambda: 3)] {
            XCTAssertEqual(rule.reduce([0.7, 0.7, 0.7]), 0.7, accuracy: 1e-12, "\(rule)")
        }
    }

    /// Members' raw scores through their scales and back to the members' average scale:
    /// raw (2, 6, 27) with (mu, sigma) = (1, 1), (2, 2), (3, 4) give z = (1, 2, 6); mean mu 2, mean sigma 7/3.
    func testCombineUsesEachMembersScale() {
        let scales = [Whitening(mean: 1, std: 1, count: 1), Whitening(mean: 2, std: 2, count: 1), Whitening(mean: 3, std: 4, count: 1)]
        let raw: [[Float]] = [[2, 1], [6, 2], [27, 3]]   // [member][sequence]
        let mean = EnsembleScorer.combine(raw, scales: scales, rule: .mean)
        XCTAssertEqual(mean[0], 2 + 7.0 / 3 * 3, accuracy: 1e-5, "Float output of Double arithmetic")
        XCTAssertEqual(EnsembleScorer.combine(raw, scales: scales, rule: .worst)[0], 2 + 7.0 / 3 * 1, accuracy: 1e-5)
        // Sequence 1: z = (0, 0, 0) -> every rule gives mean(mu) = 2.
        XCTAssertEqual(mean[1], 2, accuracy: 1e-6)
        XCTAssertEqual(EnsembleScorer.combine(raw, scales: scales, rule: .meanMinusStd(lambda: 1))[1], 2, accuracy: 1e-6)
    }

    func testParsingAndStoredForm() throws {
        XCTAssertEqual(try ConservativeRule(parsing: "mean"), .mean)
        XCTAssertEqual(try ConservativeRule(parsing: "worst"), .worst)
        XCTAssertEqual(try ConservativeRule(parsing: "mean-minus-std:1.5"), .meanMinusStd(lambda: 1.5))
        XCTAssertEqual(try ConservativeRule(parsing: "uncertainty-weighted:0.5"), .uncertaintyWeighted(lambda: 0.5))
        for bad in ["", "median", "mean-minus-std", "mean-minus-std:-1", "uncertainty-weighted:x", "worst:1"] {
            XCTAssertThrowsError(try ConservativeRule(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("conservative reward '\(bad)'"), "\(error)")
            }
        }
        let rule = ConservativeRule.meanMinusStd(lambda: 2)
        let data = try JSONEncoder().encode([rule])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["mean-minus-std:2.0"]"#)
        XCTAssertEqual(try JSONDecoder().decode([ConservativeRule].self, from: data), [rule])
    }
}

/// `rm train --ensemble N` end to end on RewardStageTests' synthetic world.
extension RewardStageTests {
    func trainEnsemble(_ n: Int, runs: URL) throws -> (tokenizer: URL, stage: URL, data: URL) {
        let (tokenizer, data, sft) = try makeInputs()
        var p = RewardModelStage.Parameters(dimension: .helpfulness)
        p.seqLen = 48; p.rows = 4; p.epochs = 1
        p.likelihood = .mean
        p.likelihoodWeight = 0.5
        p.ensemble = n
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 3e-3), checkpointEvery: 0, evaluateEvery: 0)
        let summary = try StageRun.run(RewardModelStage.self, p, inputs: StageInputs(["tokenizer": [tokenizer], "init-from": [sft], "data": [data]]),
                                       location: StageLocation(runsRoot: runs, run: "r", stage: "rm"))
        XCTAssertEqual(summary.members?.map(\.seed), (0..<UInt64(n)).map { 1 + $0 }, "members by seed, seed+1, ...")
        return (tokenizer, runs.appendingPathComponent("r/rm"), data)
    }

    func sequences(_ tokenizer: URL, count: Int) throws -> [TokenizedExample] {
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: .plumbline)
        return try comparisons(count, seed: 9, split: "s").map { try templated.encode(prompt: $0.prompt.messages, response: $0.chosen) }
    }

    func testEnsembleMembersDifferAndScoreBatchInvariantly() throws {
        let runs = root.appendingPathComponent("runs")
        let (tokenizer, stage, _) = try trainEnsemble(3, runs: runs)
        let ensemble = try XCTUnwrap(try RewardEnsemble.load(from: stage))
        XCTAssertEqual(ensemble.members.map(\.path), [".", "members/member-1", "members/member-2"])
        XCTAssertEqual(ensemble.dimension, "helpfulness")
        for i in 1..<3 {
            XCTAssertEqual(try StageManifest.read(from: ensemble.directory(of: i, in: stage)).status, .complete, "member \(i) is a complete stage")
        }
        XCTAssertEqual(Set(ensemble.members.map(\.modelSHA256)).count, 3, "three different models")
        XCTAssertTrue(try StageManifest.read(from: stage).files?.contains { $0.name == RewardEnsemble.fileName } == true,
                      "ensemble.json enters the stage's checksum")

        let eos = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: .plumbline).info.eosID
        let seqs = try sequences(tokenizer, count: 9)
        let scorer = try EnsembleScorer(stage: stage, rule: .meanMinusStd(lambda: 1), eos: eos)
        let together = try scorer.scores(seqs)
        let alone = try seqs.flatMap { try scorer.scores([$0]) }
        let reversed = try Array(scorer.scores(seqs.reversed()).reversed())
        XCTAssertEqual(together, alone, "a conservative score depends on its sequence alone (bit for bit)")
        XCTAssertEqual(together, reversed)
        // The members disagree, so the penalty is positive somewhere: mean - std < mean.
        let mean = try EnsembleScorer(stage: stage, rule: .mean, eos: eos).scores(seqs)
        XCTAssertTrue(zip(together, mean).allSatisfy { $0 <= $1 } && zip(together, mean).contains { $0 < $1 }, "\(together) vs \(mean)")
        // Without a rule the stage is its member 0, scored as a single reward model.
        let single = try EnsembleScorer(stage: stage, rule: nil, eos: eos).scores(seqs)
        XCTAssertEqual(single, try scorer.memberScores(seqs)[0])
        XCTAssertEqual(try CombinedScorer(helpfulness: stage, safety: stage, eos: eos, conservative: .worst).scores(seqs).map(\.helpfulness),
                       EnsembleScorer.combine(try scorer.memberScores(seqs), scales: ensemble.members.map(\.scale), rule: .worst))
    }

    /// Members that do not belong together, and a rule over one model, are refused before any model loads.
    func testEnsembleBadInputIsRefused() throws {
        let runs = root.appendingPathComponent("runs")
        let (_, stage, _) = try trainEnsemble(2, runs: runs)
        func tampered(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
            let copy = root.appendingPathComponent(name)
            try FileManager.default.copyItem(at: stage, to: copy)
            let file = copy.appendingPathComponent("members/member-1/manifest.json")
            var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            edit(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: file)
            return copy
        }
        func config(_ key: String, _ value: String) -> (inout [String: Any]) -> Void {
            { json in var c = json["config"] as! [String: Any]; c[key] = value; json["config"] = c }
        }
        let cases: [(URL, String)] = [
            (try tampered("dimension", config("dimension", "safety")), "safety-dimension reward model; the ensemble is for helpfulness"),
            (try tampered("template", config("template", "llama2")), "chat template 'llama2'"),
            (try tampered("tokenizer", { json in
                var inputs = json["inputs"] as! [[String: Any]]
                for i in inputs.indices where (inputs[i]["path"] as! String).hasSuffix(".model") { inputs[i]["sha256"] = String(repeating: "0", count: 64) }
                json["inputs"] = inputs
            }), "every member must share one tokenizer"),
        ]
        for (dir, message) in cases {
            XCTAssertThrowsError(try EnsembleScorer.check(dir, rule: .mean)) { error in
                XCTAssertTrue("\(error)".contains(message) && "\(error)".contains("member 1"), "\(error)")
            }
        }
        // Changed weights after the ensemble was written.
        let weights = try tampered("weights", { _ in })
        let file = weights.appendingPathComponent("members/member-1/model.safetensors.zst")
        var bytes = try Data(contentsOf: file); bytes[bytes.count - 1] ^= 1; try bytes.write(to: file)
        XCTAssertThrowsError(try EnsembleScorer.check(weights, rule: .mean)) { XCTAssertTrue("\($0)".contains("retrain the ensemble"), "\($0)") }
        // A single model (member 1 is one) cannot give a conservative reward.
        XCTAssertThrowsError(try EnsembleScorer(stage: stage.appendingPathComponent("members/member-1"), rule: .worst, eos: 2)) { error in
            XCTAssertTrue("\(error)".contains("needs an ensemble of at least 2 reward models; this stage has 1"), "\(error)")
        }
        var bad = RewardModelStage.Parameters()
        bad.ensemble = 0
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("ensemble"), "\($0)") }
    }
}

/// RS with a conservative rule, on ensembles whose outcome is known by hand: member 1 is a copy of
/// member 0 with scale (mu, sigma) = (1, 1) against member 0's (0, 1), so z = (r, r - 1) and
///   worst: min z = r - 1, back on the average scale 0.5 + 1 * (r - 1) = r - 0.5;
///   mean:  r - 0.5, back 0.5 + (r - 0.5) = r.
extension RejectionSamplingTests {
    static func ensemble(of model: URL, dimension: String, at target: URL) throws -> URL {
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: model, to: target)
        let copy = target.appendingPathComponent("members/member-1")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: model, to: copy)
        let sha = try SHA256.hex(ofFile: StageModel.inputFile(model))
        try RewardEnsemble(dimension: dimension, members: [
            RewardEnsemble.Member(path: ".", seed: 1, modelSHA256: sha, scale: Whitening(mean: 0, std: 1, count: 10)),
            RewardEnsemble.Member(path: "members/member-1", seed: 2, modelSHA256: sha, scale: Whitening(mean: 1, std: 1, count: 10)),
        ]).save(to: target)
        return target
    }

    func testConservativeRuleScoresTheSameSamplesAsAHandComputationSays() throws {
        let i = try makeInputs()
        let root = i.runs.deletingLastPathComponent()
        let ensembles = Inputs(tokenizer: i.tokenizer, policy: i.policy,
                               helpfulness: try Self.ensemble(of: i.helpfulness, dimension: "helpfulness", at: root.appendingPathComponent("ens-h")),
                               safety: try Self.ensemble(of: i.safety, dimension: "safety", at: root.appendingPathComponent("ens-s")),
                               prompts: i.prompts, runs: i.runs)
        let plain = try read(RejectionSample.self, "samples", try run(i, parameters(perShard: 11), stage: "rs-plain"))
        var worst = parameters(perShard: 11)
        worst.conservative = .worst
        var mean = parameters(perShard: 11)
        mean.conservative = .mean
        let byWorst = try read(RejectionSample.self, "samples", try run(ensembles, worst, stage: "rs-worst"))
        let byMean = try read(RejectionSample.self, "samples", try run(ensembles, mean, stage: "rs-mean"))
        XCTAssertEqual(plain.map(\.text), byWorst.map(\.text), "the rule changes the scores, not the samples")
        XCTAssertEqual(plain.count, 44)
        for (p, (w, m)) in zip(plain, zip(byWorst, byMean)) {
            // Tolerance 1e-5: Float scores through Double arithmetic and back.
            XCTAssertEqual(w.helpfulness, p.helpfulness - 0.5, accuracy: 1e-5)
            XCTAssertEqual(w.safety, p.safety - 0.5, accuracy: 1e-5)
            XCTAssertEqual(m.helpfulness, p.helpfulness, accuracy: 1e-5)
        }
        // A rule over single models is refused before the stage begins.
        XCTAssertThrowsError(try run(i, worst, stage: "rs-single")) {
            XCTAssertTrue("\($0)".contains("needs an ensemble of at least 2 reward models"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: i.runs.appendingPathComponent("r/rs-single/manifest.json").path))
    }
}

/// The pipeline-file spelling of the new keys: `ensemble: 3` on rm train, `conservative: RULE` on rs.
final class EnsembleParameterKeyTests: XCTestCase {
    func testPipelineKeysDecodeAndABadRuleNamesItsKey() throws {
        let rm = try ParameterKeys.decode(RewardModelStage.Parameters.self, [ParameterEntry(key: "ensemble", values: ["3"], place: "main.yaml:12")],
                                          kind: RewardModelStage.kind)
        XCTAssertEqual(rm.ensemble, 3)
        let rs = try ParameterKeys.decode(RejectionSamplingStage.Parameters.self,
                                          [ParameterEntry(key: "conservative", values: ["mean-minus-std:1"], place: "main.yaml:20")],
                                          kind: RejectionSamplingStage.kind)
        XCTAssertEqual(rs.conservative, .meanMinusStd(lambda: 1))
        XCTAssertThrowsError(try ParameterKeys.decode(RejectionSamplingStage.Parameters.self,
                                                      [ParameterEntry(key: "conservative", values: ["median"], place: "main.yaml:21")],
                                                      kind: RejectionSamplingStage.kind)) { error in
            XCTAssertTrue("\(error)".contains("main.yaml:21") && "\(error)".contains("conservative"), "\(error)")
        }
        XCTAssertNil(RewardModelStage.Parameters().ensemble, "absent: the resolved config, and so the cache key, as before")
    }
}
