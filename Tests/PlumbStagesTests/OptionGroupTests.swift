// Option groups (ParameterGroup): a group's properties are the stage's own keys, in a file and on the
// command line, while the parameters' JSON nests the group; two properties of one name are an error;
// the distributed group stays out of the JSON (so out of the cache key); `init-from` is a preset
// parameter or a model-directory input by its value; `plumb sft` with its flags and the same stage's
// file keys give one key.
import Foundation
import PlumbStages
import PlumbStore
import PlumbTensor
import PlumbPipeline
import XCTest

/// A group whose `seed` clashes with a stage's own `seed`.
struct ClashingGroup: ParameterGroup, Equatable {
    var seed: UInt64 = 2
}

struct ClashingParameters: StageParameters, Equatable {
    var seed: UInt64 = 1
    var other = ClashingGroup()
}

final class OptionGroupTests: XCTestCase {
    func decode(_ pairs: [(String, [String])]) throws -> SFTStage.Parameters {
        try ParameterKeys.decode(SFTStage.Parameters.self, pairs.map { ParameterEntry(key: $0.0, values: $0.1, place: "test:1") }, kind: .sft)
    }

    func testAGroupsKeysAreTheStagesOwnKeysInDeclarationOrder() throws {
        XCTAssertEqual(try SFTStage.acceptedKeys(), [
            "init-from", "init-seed",
            "seq-len", "rows", "epochs", "seed", "lr", "schedule", "warmup-ratio", "min-lr-ratio", "weight-decay", "beta1", "beta2", "eps",
            "max-grad-norm", "gradient-accumulation", "checkpoint-every", "eval-every", "keep-checkpoints", "max-non-finite-steps",
            "layout", "template", "text-validation-share", "data-weight", "comparison-responses",
            "distributed", "lora",
        ])
        XCTAssertEqual(try PretrainStage.acceptedKeys(), try SFTStage.acceptedKeys(), "the two kinds embed the same groups")
    }

    func testValuesReachTheirGroupAndTheJSONNestsThem() throws {
        let p = try decode([("lr", ["3e-3"]), ("init-from", ["tiny"]), ("data-weight", ["1", "0.5"]), ("eval-every", ["0"]), ("layout", ["padded"])])
        XCTAssertEqual(p.optimisation.lr, 3e-3)
        XCTAssertEqual(p.optimisation.evalEvery, 0)
        XCTAssertEqual(p.model.initFrom, "tiny")
        XCTAssertEqual(p.dataWeight, [1, 0.5])
        XCTAssertEqual(p.layout, .padded)
        var expected = SFTStage.Parameters()
        expected.optimisation.lr = 3e-3
        expected.optimisation.evalEvery = 0
        expected.model.initFrom = "tiny"
        expected.dataWeight = [1, 0.5]
        expected.layout = .padded
        XCTAssertEqual(p, expected, "every other key keeps its default")
        guard case .object(let json) = try JSONValue(encoding: p), case .object(let optimisation)? = json["optimisation"] else {
            return XCTFail("the parameters' JSON nests the group")
        }
        XCTAssertNil(json["lr"])
        XCTAssertEqual(optimisation["evalEvery"], .number(0))
        let root = FileManager.default.temporaryDirectory
        let a = try StageKey.compute(kind: .sft, parameters: try decode([("lr", ["0.003"])]), inputs: StageInputs(), runsRoot: root).key
        let b = try StageKey.compute(kind: .sft, parameters: try decode([("lr", ["3e-3"])]), inputs: StageInputs(), runsRoot: root).key
        XCTAssertEqual(a, b, "one number written two ways is one key")
        XCTAssertThrowsError(try decode([("lr", ["fast"])])) { XCTAssertEqual("\($0)", "test:1: lr: \"fast\" is not a number") }
        XCTAssertThrowsError(try decode([("optimisation", ["1"])])) { XCTAssertTrue("\($0)".contains("sft has no parameter `optimisation`"), "\($0)") }
    }

    /// The defaults are the ones `plumb sft` had as flags: Llama 2's optimiser settings and SFT's
    /// learning rate, so the converted stage trains as before (the quick main job's table is unchanged).
    func testTheDefaultsAreTheTrainingLoopsOwn() throws {
        XCTAssertEqual(SFTStage.Parameters().optimisation.loop,
                       LoopSettings(optimization: OptimizationSettings(learningRate: 2e-5), checkpointEvery: 200, evaluateEvery: 100,
                                    keepCheckpoints: 2, maxConsecutiveNonFinite: 5))
        XCTAssertEqual(PretrainStage.Parameters().optimisation.lr, 3e-4)
        XCTAssertEqual(OptimizationSettings().adam, AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: 0.1))
    }

    func testTwoPropertiesOfOneNameAreAnError() {
        XCTAssertThrowsError(try ParameterKeys.accepted(ClashingParameters.self)) {
            XCTAssertTrue("\($0)".contains("seed") && "\($0)".contains("the stage and other"), "\($0)")
        }
    }

    /// `distributed: mpi` decodes, the caller can read it, and it is no part of the JSON, so a job of
    /// two ranks and its resume by one process share a key. Checking it starts nothing.
    func testTheDistributedGroupStaysOutOfTheKey() throws {
        let p = try decode([("distributed", ["mpi"])])
        XCTAssertEqual(p.parallel.distributed, .mpi)
        XCTAssertEqual(try JSONValue(encoding: p), try JSONValue(encoding: SFTStage.Parameters()))
        let invocation = StageInvocation(stage: SFTStage.self, parameters: [ParameterEntry(key: "distributed", values: ["mpi"], place: "--distributed")],
                                         inputs: StageInputs(["tokenizer": [URL(fileURLWithPath: "/t")], "text": [URL(fileURLWithPath: "/x")]]))
        try invocation.check()
        XCTAssertEqual(try invocation.distributedMode(), .mpi)
        XCTAssertTrue(Distributed.world is SingleProcess, "a check does not start MPI")
        XCTAssertThrowsError(try decode([("distributed", ["tcp"])])) { XCTAssertTrue("\($0)".contains("distributed"), "\($0)") }
    }

    /// `--init-from tiny` is the preset parameter, `--init-from DIR` the input; the `plumb sft` flags
    /// and a file's keys for the same stage give one invocation key.
    func testTheCommandsFlagsAndAFilesKeysGiveOneKey() throws {
        XCTAssertTrue(SFTStage.takesValue("tiny", forKey: "init-from"))
        XCTAssertFalse(SFTStage.takesValue("/runs/m/pretrain", forKey: "init-from"))
        let (presetEntries, presetInputs, _) = try StageFlags.parse(["--init-from", "tiny", "--tokenizer", "/t/spm.model", "--text", "/t/a.txt"], stage: SFTStage.self)
        XCTAssertEqual(presetEntries.map(\.key), ["init-from"])
        XCTAssertNil(presetInputs.paths["init-from"])
        let (entries, inputs, out) = try StageFlags.parse(
            ["--tokenizer", "/t/spm.model", "--data", "/r/a", "--data", "/r/b", "--init-from", "/r/pretrain", "--lr", "3e-3",
             "--data-weight", "1", "--data-weight", "0.5", "--eval-every", "0", "--out", "/r/sft"], stage: SFTStage.self)
        XCTAssertEqual(out, "/r/sft")
        XCTAssertEqual(inputs.paths["init-from"], [URL(fileURLWithPath: "/r/pretrain")])
        XCTAssertEqual(inputs.paths["data"], [URL(fileURLWithPath: "/r/a"), URL(fileURLWithPath: "/r/b")])
        let byHand = StageInvocation(stage: SFTStage.self, parameters: entries, inputs: inputs)
        let inFile = StageInvocation(stage: SFTStage.self, parameters: [
            ParameterEntry(key: "eval-every", values: ["0"], place: "f.yaml:3"), ParameterEntry(key: "lr", values: ["0.003"], place: "f.yaml:3"),
            ParameterEntry(key: "data-weight", values: ["1.0", "0.50"], place: "f.yaml:3"),
        ], inputs: inputs)
        XCTAssertEqual(try byHand.decodedParameters() as? SFTStage.Parameters, try inFile.decodedParameters() as? SFTStage.Parameters)
        // A list repeats its flag; a later flag of another key replaces the earlier one, as the
        // hand-written commands' parser did (tests and scripts append overrides to a base command).
        XCTAssertEqual(try SFTStage.listKeys(), ["data-weight"])
        XCTAssertEqual(try DPOStage.listKeys(), ["mix"])
        let (repeated, _, _) = try StageFlags.parse(["--lr", "1e-3", "--data-weight", "1", "--lr", "2e-3", "--data-weight", "2"], stage: SFTStage.self)
        XCTAssertEqual(repeated.map(\.values), [["2e-3"], ["1", "2"]])
    }

    /// Every flag the hand-written commands had is still a key or an input of the kind, so command
    /// lines and pipeline files written before keep working.
    func testTheFormerCommandsFlagsAreKeysOrInputs() throws {
        let optimisation = ["seq-len", "rows", "epochs", "seed", "lr", "schedule", "warmup-ratio", "min-lr-ratio", "weight-decay", "beta1", "beta2",
                            "eps", "max-grad-norm", "gradient-accumulation", "checkpoint-every", "eval-every", "max-non-finite-steps", "distributed"]
        let former: [(any Stage.Type, [String])] = [
            (SFTStage.self, ["tokenizer", "text", "data", "data-weight", "comparisons", "comparison-responses", "layout", "template", "init-from", "config", "init-seed"]),
            (PretrainStage.self, ["tokenizer", "text", "data", "data-weight", "comparisons", "comparison-responses", "layout", "template", "init-from", "config", "init-seed"]),
            (RewardModelStage.self, ["tokenizer", "init-from", "data", "dimension", "margin", "custom-margins", "centring", "mix", "template",
                                     "likelihood", "likelihood-weight", "labelled-pairs"]),
            (DPOStage.self, ["tokenizer", "init-from", "reference", "data", "loss", "beta", "gamma", "label-smoothing", "rpo", "length-normalised",
                             "template", "mix", "reference-cache"]),
        ]
        for (stage, flags) in former {
            let known = Set(try stage.acceptedKeys() + stage.slots.map(\.name))
            XCTAssertEqual(Set(flags + optimisation).subtracting(known), [], "\(stage.kind)")
        }
        XCTAssertEqual(try RewardModelStage.acceptedKeys().filter { $0 == "seed" }.count, 1, "one key names one property")
    }

    /// `rm train` names its dimension, as `--dimension` was required: without it the check fails
    /// naming the key, before anything runs.
    func testARequiredKeyMustBeGiven() throws {
        let inputs = StageInputs(["tokenizer": [URL(fileURLWithPath: "/t")], "init-from": [URL(fileURLWithPath: "/s")], "data": [URL(fileURLWithPath: "/d")]])
        XCTAssertThrowsError(try StageInvocation(stage: RewardModelStage.self, parameters: [], inputs: inputs).check()) {
            XCTAssertTrue("\($0)".contains("rm train needs `dimension`"), "\($0)")
        }
        let safety = StageInvocation(stage: RewardModelStage.self, parameters: [ParameterEntry(key: "dimension", values: ["safety"], place: "f:1")], inputs: inputs)
        XCTAssertEqual((try safety.decodedParameters() as? RewardModelStage.Parameters)?.dimension, .safety)
    }
}
