// The KTO stage: comparisons and KTO-labelled feedback read as unpaired examples, the twins of the KL
// estimate, loss 1/2 when the policy is the reference, the cached reference equal to a recomputed one
// (the same weights bit for bit), training that separates desirable from undesirable examples, and a
// killed stage resumed to the same weights.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import PlumbTensor
import XCTest

final class KTOStageTests: XCTestCase {
    /// The comparison fixture, and KTO-format feedback made from 24 further comparisons of the task
    /// (each chosen response labelled true, each rejected one false), imported.
    func inputs() throws -> (tokenizer: URL, policy: URL, comparisons: URL, feedback: URL, runs: URL) {
        let i = try StageFixtures.comparisonInputs()
        let feedback = i.runs.appendingPathComponent("r/import-feedback")
        if !FileManager.default.fileExists(atPath: feedback.appendingPathComponent("manifest.json").path) {
            let task = try StageFixtures.fixture().task
            let lines = try String(contentsOf: task.appendingPathComponent("comparisons.jsonl"), encoding: .utf8).split(separator: "\n").dropFirst(48).prefix(24)
            var out = ""
            for line in lines {
                let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                for (side, label) in [("chosen", true), ("rejected", false)] {
                    let row: [String: Any] = ["prompt": record["prompt"]!, "completion": record[side]!, "label": label]
                    out += String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self) + "\n"
                }
            }
            let file = i.runs.deletingLastPathComponent().appendingPathComponent("kto.jsonl")
            try out.write(to: file, atomically: true, encoding: .utf8)
            try StageFixtures.plumb(["import", file.path, "--out", feedback.path, "--validation-fraction", "0.25", "--test-fraction", "0"])
        }
        return (i.tokenizer, i.policy, i.data, feedback, i.runs)
    }

    func parameters() -> KTOStage.Parameters {
        var p = KTOStage.Parameters()
        p.seqLen = 95
        p.rows = 4
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-3), checkpointEvery: 3, evaluateEvery: 0)
        return p
    }

    func manifest(_ runs: URL, _ stage: String) throws -> StageManifest { try StageManifest.read(from: runs.appendingPathComponent("r/\(stage)")) }

    func weights(_ runs: URL, _ stage: String) throws -> [Float] {
        let p = try StageModel.load(runs.appendingPathComponent("r/\(stage)")).parameters
        return Array(UnsafeBufferPointer(start: p.values.base, count: p.totalCount))
    }

    func testFeedbackAndComparisonsTrainWithACachedReference() throws {
        let i = try inputs()
        let inputs = StageInputs(["tokenizer": [i.tokenizer], "init-from": [i.policy], "data": [i.comparisons, i.feedback]])
        let a = try StageRun.run(KTOStage.self, parameters(), inputs: inputs, location: StageLocation(runsRoot: i.runs, run: "r", stage: "kto-a"))
        // Every comparison gives two examples, every feedback record one: the counts add up.
        let comparisons = try manifest(i.runs, "import-comparisons"), feedback = try manifest(i.runs, "import-feedback")
        func records(_ m: StageManifest, _ output: String) -> Int { m.outputs.first { $0.name == output }?.records ?? 0 }
        XCTAssertEqual(a.examples["train"], 2 * records(comparisons, "comparisons-train") + records(feedback, "feedbacks-train"))
        XCTAssertEqual(a.examples["validation"], 2 * records(comparisons, "comparisons-validation") + records(feedback, "feedbacks-validation"))
        XCTAssertEqual(records(feedback, "feedbacks-train") + records(feedback, "feedbacks-validation"), 48, "24 comparisons as 48 labelled responses")
        XCTAssertEqual(a.desirable["train"]! * 2, a.examples["train"]!, "half the examples are desirable")
        XCTAssertEqual(a.weightBalance, 1, accuracy: 1e-12)
        // Policy = reference: every reward and z0 are 0, so each example's loss is 1 - s(0) = 1/2
        // (float32 sums of log-probabilities: the two passes agree to rounding, 1e-5).
        let eval = a.training.initialEvaluation
        XCTAssertEqual(eval["eval_loss"]!, 0.5, accuracy: 1e-5)
        // z0 is the positive part of a mean of differences between two float32 sums of token
        // log-probabilities (packed training rows against one-sequence reference passes, which round
        // differently): within 2 ulps of sums as large as the mean log-probabilities (about 351 here,
        // ulp 3.1e-5; measured 1.0e-5 under OpenBLAS's Haswell kernels, 7.4e-6 under SkylakeX).
        let logp = max(abs(eval["eval_logps/chosen"]!), abs(eval["eval_logps/rejected"]!))
        XCTAssertEqual(eval["eval_kl"]!, 0, accuracy: 2 * Double(Float(logp).ulp), "mean log-prob \(logp)")
        XCTAssertGreaterThan(a.training.steps, 3)
        XCTAssertEqual(a.training.nonFiniteSteps, 0)
        // Training separates the two kinds: the held-out margin of rewards rises from 0.
        XCTAssertGreaterThan(a.training.finalEvaluation["eval_rewards/margins"]!, 0.05)
        XCTAssertLessThan(a.training.finalEvaluation["eval_loss"]!, 0.5)
        XCTAssertEqual(a.referenceComputed, a.examples["train"]! + a.examples["validation"]!)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen", "logps/rejected", "kl"] {
            XCTAssertNotNil(try manifest(i.runs, "kto-a").metrics["eval_" + key], key)
        }
        // A second stage reads the first one's reference cache: nothing computed, the same weights.
        var reuse = inputs
        reuse.paths["reference-cache"] = [i.runs.appendingPathComponent("r/kto-a")]
        let b = try StageRun.run(KTOStage.self, parameters(), inputs: reuse, location: StageLocation(runsRoot: i.runs, run: "r", stage: "kto-b"))
        XCTAssertEqual(b.referenceComputed, 0)
        XCTAssertEqual(try weights(i.runs, "kto-a"), try weights(i.runs, "kto-b"), "the same weights, bit for bit")
    }

    /// Each example's twin is its own prompt with another example's response, each response used as
    /// a twin exactly once; the same seed pairs the same way, another seed differently.
    func testTwinsPairEachPromptWithAnotherResponse() throws {
        let i = try inputs()
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: i.tokenizer.path), template: .plumbline)
        let examples = (0..<9).map { n in
            UnpairedExample(id: "e\(n)", prompt: [.user("Compute \(n) + 1.")], response: "It is \(n + 1).", desirable: n % 2 == 0, source: "t")
        }
        func twins(_ seed: UInt64) throws -> [[Int32]] { try KTOData.encode(examples, templated: templated, seqLen: 95, seed: seed).examples.map(\.mismatched.tokens) }
        let encoded = try KTOData.encode(examples, templated: templated, seqLen: 95, seed: 1).examples
        var used = Set<Int>()
        for (n, e) in encoded.enumerated() {
            let prompt = try templated.encode(prompt: examples[n].prompt, response: "").tokens
            XCTAssertEqual(Array(e.mismatched.tokens.prefix(prompt.count - 1)), Array(prompt.prefix(prompt.count - 1)), "the twin keeps its own prompt")
            let owner = try (0..<9).first { m in
                try ResponseLikelihood.example(templated.encode(prompt: examples[n].prompt, response: examples[m].response), seqLen: 95) == e.mismatched
            }
            XCTAssertNotNil(owner)
            XCTAssertNotEqual(owner, n, "another example's response")
            used.insert(owner!)
        }
        XCTAssertEqual(used.count, 9, "each response is a twin exactly once")
        XCTAssertEqual(try twins(1), try twins(1))
        XCTAssertNotEqual(try twins(1), try twins(2))
    }

    /// A KTO stage killed after step 3 and rerun ends with the same weights as an uninterrupted one,
    /// its reference read from its own cache.
    func testKilledStageResumesToTheSameWeights() throws {
        let i = try inputs()
        _ = try PlumbProcess.binary()
        func arguments(_ stage: String) -> [String] {
            ["kto", "--tokenizer", i.tokenizer.path, "--init-from", i.policy.path, "--data", i.comparisons.path, "--data", i.feedback.path,
             "--seq-len", "95", "--rows", "4", "--lr", "1e-3", "--checkpoint-every", "2", "--eval-every", "0",
             "--out", i.runs.appendingPathComponent("r/\(stage)").path]
        }
        XCTAssertEqual(try PlumbProcess.run(arguments("kto-whole")).0, 0)
        XCTAssertEqual(try PlumbProcess.run(arguments("kto-killed"), environment: ["PLUMB_KILL_AFTER_STEP": "3"]).1, .uncaughtSignal)
        XCTAssertEqual(try manifest(i.runs, "kto-killed").status, .running)
        XCTAssertEqual(try PlumbProcess.run(arguments("kto-killed")).0, 0)
        XCTAssertEqual(try manifest(i.runs, "kto-killed").metrics["reference_cached"], 1, "the rerun read its own reference cache")
        XCTAssertEqual(try weights(i.runs, "kto-whole"), try weights(i.runs, "kto-killed"))
    }

    /// Safety labels on single responses (BeaverTails' layout) are feedback on safety: safe is desirable.
    func testLabelledResponsesAreSafetyFeedback() throws {
        let i = try inputs()
        let rows = (0..<8).map { n in
            #"{"prompt": "How do I \#(n % 2 == 0 ? "bake bread" : "pick a lock")?", "response": "Answer \#(n).", "is_safe": \#(n % 3 != 0), "category": {"theft": \#(n % 3 == 0)}}"#
        }
        let file = i.runs.deletingLastPathComponent().appendingPathComponent("labelled.jsonl")
        try (rows.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let stage = i.runs.appendingPathComponent("r/import-labelled")
        try? FileManager.default.removeItem(at: stage)
        try StageFixtures.plumb(["import", file.path, "--out", stage.path, "--validation-fraction", "0", "--test-fraction", "0"])
        let data = try KTOData.load(stages: [stage])
        XCTAssertEqual(data.train.count, 8)
        XCTAssertEqual(data.train.filter(\.desirable).count, 5, "rows 1, 2, 4, 5, 7 are safe")
        XCTAssertEqual(Set(data.train.filter { !$0.desirable }.map(\.response)), ["Answer 0.", "Answer 3.", "Answer 6."])
    }

    /// The task's thumbs log imports with no flags as unpaired feedback, every record kept, thumbs up
    /// as the desirable examples.
    func testTheTasksThumbsLogIsFeedback() throws {
        let f = try StageFixtures.fixture()
        let file = f.task.appendingPathComponent("thumbs.jsonl")
        let stage = f.root.appendingPathComponent("runs/thumbs/import-thumbs")
        try? FileManager.default.removeItem(at: stage)
        try StageFixtures.plumb(["import", file.path, "--out", stage.path, "--validation-fraction", "0", "--test-fraction", "0"])
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        let data = try KTOData.load(stages: [stage])
        XCTAssertEqual(data.train.count, lines.count)
        XCTAssertEqual(data.train.filter(\.desirable).count, lines.filter { $0.contains(#""thumbs":"up""#) }.count)
    }

    func testDataWithoutTrainingRecordsIsRefused() throws {
        let i = try inputs()
        // An import of demonstrations only: no feedback, no comparisons.
        let inputs = StageInputs(["tokenizer": [i.tokenizer], "init-from": [i.policy], "data": [try StageFixtures.fixture().importSFT]])
        XCTAssertThrowsError(try StageRun.run(KTOStage.self, parameters(), inputs: inputs, location: StageLocation(runsRoot: i.runs, run: "r", stage: "kto-empty"))) {
            XCTAssertTrue("\($0)".contains("no feedbacks-train, labelled-responses-train or comparisons-train records"), "\($0)")
        }
    }
}
