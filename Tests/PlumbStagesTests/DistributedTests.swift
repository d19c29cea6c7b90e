// `--distributed mpi` end to end, through `mpirun -np 2` of the built `plumb` (skipped only where
// mpirun is not installed; run.sh installs it): two ranks train the model one process trains from the
// same global batch (to a stated tolerance), write the rejection-sampling and scoring shards one
// process writes (byte for byte), and a rank killed mid-run ends the job with an error naming it and
// leaves a stage that resumes (here with one process: another N whose share divides the batch).
import Foundation
import XCTest
import PlumbModel
@testable import PlumbStages
import PlumbStore
import PlumbTensor

final class DistributedTests: XCTestCase {
    /// Largest difference allowed between a weight trained by two ranks and by one: the ranks add the
    /// same micro-batch gradients in another order, and AdamW carries that rounding through the
    /// fixture's 164 steps (measured: 4e-7 for 2 ranks, 6e-7 killed at 2 ranks and resumed by 1).
    static let weightTolerance: Float = 1e-5

    static func mpirun() throws -> URL {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin:/usr/local/bin"
        for dir in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("mpirun is not installed (Debian: openmpi-bin; ./run.sh installs it)")
    }

    /// Runs `plumb arguments` as `ranks` MPI processes (one process without mpirun when `ranks` is
    /// nil); returns the exit status and the job's standard error.
    @discardableResult
    func run(ranks: Int?, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, errors: String) {
        let plumb = try PlumbProcess.binary()
        let process = Process()
        if let ranks {
            process.executableURL = try Self.mpirun()
            // As root mpirun needs --allow-run-as-root; on 2 cores, 2 ranks need --oversubscribe.
            process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", plumb.path] + arguments + ["--distributed", "mpi"]
        } else {
            process.executableURL = plumb
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-mpi-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }

    func sftArguments(_ f: StageFixtures.Fixture, out: URL) -> [String] {
        ["sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", "tiny", "--config", f.modelConfig.path,
         "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lr", "3e-3", "--gradient-accumulation", "2",
         "--checkpoint-every", "4", "--eval-every", "0", "--out", out.path]
    }

    func weights(_ stage: URL) throws -> [Float] {
        let model = try StageModel.load(stage)
        return Array(UnsafeBufferPointer(start: model.parameters.values.base, count: model.parameters.totalCount))
    }

    func losses(_ stage: URL) throws -> [Double] {
        let text = try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["event"] as? String == "step" ? object?["loss"] as? Double : nil
        }
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// One process, then two ranks, then two ranks with rank 1 killed after step 6 and resumed by
    /// one process: every run ends with the one-process weights to `weightTolerance`.
    func testTwoRanksTrainLikeOneAndAKilledRankStopsTheJobResumably() throws {
        _ = try Self.mpirun()
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("mpi-\(UUID().uuidString)")
        let one = root.appendingPathComponent("one/sft"), two = root.appendingPathComponent("two/sft")
        let killed = root.appendingPathComponent("killed/sft")
        var result = try run(ranks: nil, sftArguments(f, out: one))
        XCTAssertEqual(result.status, 0, result.errors)
        result = try run(ranks: 2, sftArguments(f, out: two))
        XCTAssertEqual(result.status, 0, result.errors)

        let manifest = try StageManifest.read(from: two)
        XCTAssertEqual(manifest.status, .complete)
        XCTAssertEqual(manifest.metrics["steps"], try StageManifest.read(from: one).metrics["steps"], "the plan does not depend on N")
        let reference = try weights(one)
        let difference = maxDifference(reference, try weights(two))
        print("distributed: largest weight difference, 2 ranks against 1: \(difference)")
        XCTAssertLessThanOrEqual(difference, Self.weightTolerance)
        let (a, b) = (try losses(one), try losses(two))
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-3, "step losses of 1 and 2 ranks") }
        let newest = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: two.appendingPathComponent("checkpoints").path).sorted().last)
        let state = try Data(contentsOf: two.appendingPathComponent("checkpoints/\(newest)/trainer.json"))
        XCTAssertEqual((try JSONSerialization.jsonObject(with: state) as? [String: Any])?["ranks"] as? Int, 2)

        // Rank 1 dies by SIGKILL after step 6: mpirun ends the job, naming the rank; the stage stays
        // unfinished with the checkpoint of step 4, and one process resumes it.
        result = try run(ranks: 2, sftArguments(f, out: killed), environment: ["PLUMB_KILL_AFTER_STEP": "6", "PLUMB_KILL_RANK": "1"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("rank 1"), result.errors)
        XCTAssertEqual(try StageManifest.read(from: killed).status, .running)
        XCTAssertTrue(FileManager.default.fileExists(atPath: killed.appendingPathComponent("checkpoints/step-00000004").path))
        result = try run(ranks: nil, sftArguments(f, out: killed))
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.errors.contains("written by 2 process(es), with 1"), result.errors)
        XCTAssertEqual(try StageManifest.read(from: killed).status, .complete)
        let resumedDifference = maxDifference(reference, try weights(killed))
        print("distributed: largest weight difference, killed at 2 ranks and resumed by 1, against 1: \(resumedDifference)")
        XCTAssertLessThanOrEqual(resumedDifference, Self.weightTolerance)
    }

    /// Rejection sampling and `rm score` over two ranks write the shards one process writes, byte for byte.
    func testShardedSamplingAndScoringWriteTheBytesOfOneProcess() throws {
        _ = try Self.mpirun()
        let i = try RejectionSamplingTests.makeInputs()
        func rs(_ stage: String) -> [String] {
            ["rs", "--tokenizer", i.tokenizer.path, "--policy", i.policy.path, "--helpfulness", i.helpfulness.path, "--safety", i.safety.path,
             "--prompts", i.prompts.path, "--k", "4", "--temperature", "1", "--max-new-tokens", "12", "--limit", "11",
             "--prompts-per-shard", "4", "--max-sequences", "8", "--gate-threshold", "0.5", "--out", i.runs.appendingPathComponent("mpi/\(stage)").path]
        }
        func score(_ stage: String) -> [String] {
            ["rm", "score", "--tokenizer", i.tokenizer.path, "--model", i.helpfulness.path,
             "--data", i.runs.appendingPathComponent("mpi/rs-one").path, "--out", i.runs.appendingPathComponent("mpi/\(stage)").path]
        }
        for (ranks, suffix) in [(nil, "one"), (2, "two")] as [(Int?, String)] {
            var result = try run(ranks: ranks, rs("rs-" + suffix))
            XCTAssertEqual(result.status, 0, result.errors)
            result = try run(ranks: ranks, score("score-" + suffix))
            XCTAssertEqual(result.status, 0, result.errors)
        }
        for kind in ["rs", "score"] {
            let one = try StageManifest.read(from: i.runs.appendingPathComponent("mpi/\(kind)-one"))
            let two = try StageManifest.read(from: i.runs.appendingPathComponent("mpi/\(kind)-two"))
            XCTAssertEqual(two.status, .complete)
            XCTAssertFalse(one.outputs.isEmpty)
            XCTAssertEqual(one.outputs.map(\.name), two.outputs.map(\.name))
            for (x, y) in zip(one.outputs, two.outputs) {
                XCTAssertEqual(x.files.map(\.file), y.files.map(\.file), "\(kind) \(x.name)")
                XCTAssertEqual(x.files.map(\.sha256), y.files.map(\.sha256), "\(kind) \(x.name): shards differ from one process's")
            }
        }
    }

    /// A step's micro-batches must split evenly over the ranks; one process takes any.
    func testAccumulationThatDoesNotDivideIsRefused() throws {
        XCTAssertNoThrow(try TrainingLoop.checkDivides(accumulation: 3, ranks: 1))
        XCTAssertNoThrow(try TrainingLoop.checkDivides(accumulation: 4, ranks: 2))
        XCTAssertThrowsError(try TrainingLoop.checkDivides(accumulation: 3, ranks: 2)) {
            XCTAssertTrue("\($0)".contains("--gradient-accumulation to be a multiple of 2"), "\($0)")
        }
    }

    /// Results gathered from the ranks' shares come back in index order.
    func testShardingPutsResultsBackInOrder() throws {
        XCTAssertEqual(Sharding.indices(count: 7, rank: 1, size: 3), [1, 4])
        let all = try Sharding.gatherInOrder(count: 5, world: SingleProcess()) { $0.map { $0 * 10 } }
        XCTAssertEqual(all, [0, 10, 20, 30, 40])
    }
}

extension DistributedTests {
    /// PPO over two ranks (decoding shared out by prompt, each mini-batch's micro-batches split over
    /// the ranks) ends with the policy one process trains, to `weightTolerance`, with the same figures.
    func testTwoRankPPOTrainsLikeOne() throws {
        _ = try Self.mpirun()
        let setup = PPOStageTests(name: "inputs", testClosure: { _ in })
        let i = try setup.makeInputs()
        let one = i.runs.appendingPathComponent("r/ppo-mpi-one"), two = i.runs.appendingPathComponent("r/ppo-mpi-two")
        let extra = ["--rows", "2"]
        var result = try run(ranks: nil, setup.arguments(i, stage: one.lastPathComponent, extra: extra))
        XCTAssertEqual(result.status, 0, result.errors)
        result = try run(ranks: 2, setup.arguments(i, stage: two.lastPathComponent, extra: extra))
        XCTAssertEqual(result.status, 0, result.errors)
        let difference = maxDifference(try weights(one), try weights(two))
        print("distributed: largest PPO policy weight difference, 2 ranks against 1: \(difference)")
        XCTAssertLessThanOrEqual(difference, Self.weightTolerance)
        let (a, b) = (try StageManifest.read(from: one), try StageManifest.read(from: two))
        XCTAssertEqual(b.status, .complete)
        XCTAssertEqual(a.outputs.map(\.name), b.outputs.map(\.name))
        for (x, y) in zip(a.outputs, b.outputs) { XCTAssertEqual(x.files.map(\.sha256), y.files.map(\.sha256), "\(x.name): PPO samples differ") }
    }
}

extension DistributedTests {
    /// DPO over two ranks (its reference cache computed by each rank, kept by rank 0) ends with the
    /// policy one process trains from the same global batch (rows 2 x accumulation 2), to `weightTolerance`.
    func testTwoRankDPOTrainsLikeOne() throws {
        _ = try Self.mpirun()
        let i = try DPOTests(name: "inputs", testClosure: { _ in }).stageInputs()
        func arguments(_ stage: String) -> [String] {
            ["dpo", "--tokenizer", i.tokenizer.path, "--init-from", i.policy.path, "--data", i.data.path, "--seq-len", "95", "--rows", "2",
             "--gradient-accumulation", "2", "--lr", "1e-3", "--checkpoint-every", "2", "--eval-every", "0",
             "--out", i.runs.appendingPathComponent("r/\(stage)").path]
        }
        var result = try run(ranks: nil, arguments("dpo-mpi-one"))
        XCTAssertEqual(result.status, 0, result.errors)
        result = try run(ranks: 2, arguments("dpo-mpi-two"))
        XCTAssertEqual(result.status, 0, result.errors)
        let difference = maxDifference(try weights(i.runs.appendingPathComponent("r/dpo-mpi-one")), try weights(i.runs.appendingPathComponent("r/dpo-mpi-two")))
        print("distributed: largest DPO weight difference, 2 ranks against 1: \(difference)")
        XCTAssertLessThanOrEqual(difference, Self.weightTolerance)
        XCTAssertEqual(try StageManifest.read(from: i.runs.appendingPathComponent("r/dpo-mpi-two")).status, .complete)
    }
}
