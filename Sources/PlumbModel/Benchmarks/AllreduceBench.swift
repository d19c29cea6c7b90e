// `plumb bench allreduce` (under `mpirun -np N`): the time to sum a preset's gradient arena over the
// ranks (allreduce in place), and its share of a data-parallel training step measured in the same
// run: every rank times full training steps (ModelBenchmarks.train) over its share of the global batch
// at the same time, as the ranks of a job on this machine would. Rank 0 reports.
//   algorithm bandwidth  bytes / t;   bus bandwidth  2 (n - 1) / n * bytes / t   (NCCL's nccl-tests convention)
import Foundation
import PlumbFiles
import PlumbTensor

public enum AllreduceBench {
    public struct Options: Sendable {
        public var preset: LlamaPreset = .stories15m
        /// Sequences of the global batch; each rank trains on its share.
        public var batchSize = 8
        public var seqLen = 256
        /// Timed training steps per rank (after one warm-up step).
        public var steps = 3
        /// Timed allreduces (after three warm-up ones).
        public var repetitions = 20
        public init() {}
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "allreduce"
        public var threads: Int
        public var preset: String
        public var ranks: Int
        public var parameters: Int
        public var arenaBytes: Int
        public var repetitions: Int
        public var allreduceSecondsMedian: Double, allreduceSecondsMin: Double
        public var algorithmGbitPerSecond: Double, busGbitPerSecond: Double
        public var globalBatch: Int, rowsPerRank: Int, seqLen: Int
        /// The slowest rank's mean training step.
        public var stepComputeSeconds: Double
        /// allreduce / (step + allreduce).
        public var allreduceShareOfStep: Double
        enum CodingKeys: String, CodingKey {
            case benchmark, threads, preset, ranks, parameters, arenaBytes = "arena_bytes", repetitions
            case allreduceSecondsMedian = "allreduce_seconds_median", allreduceSecondsMin = "allreduce_seconds_min"
            case algorithmGbitPerSecond = "algorithm_gbit_per_second", busGbitPerSecond = "bus_gbit_per_second"
            case globalBatch = "global_batch", rowsPerRank = "rows_per_rank", seqLen = "seq_len"
            case stepComputeSeconds = "step_compute_seconds", allreduceShareOfStep = "allreduce_share_of_step"
        }
    }

    /// Every rank of `world` calls this; rank 0 gets the report, the others nil.
    public static func run(_ o: Options, world: any Communicator = Distributed.world) throws -> Report? {
        guard o.batchSize % world.size == 0 else {
            throw BenchmarkError("bench allreduce: --batch-size \(o.batchSize) does not split evenly over \(world.size) ranks")
        }
        let config = o.preset.config
        let model = try LlamaModel(config: config, heads: .lm, seed: 0)
        let arena = model.parameters.gradients
        for i in 0..<arena.count { arena.base[i] = Float(world.rank + 1) * 1e-3 * Float(i % 97) }
        for _ in 0..<3 { try world.allreduceSum(arena) }
        var times: [Double] = []
        for _ in 0..<o.repetitions {
            try world.barrier()
            let start = monotonicSeconds()
            try world.allreduceSum(arena)
            times.append(monotonicSeconds() - start)
        }
        times.sort()
        let middle = times[times.count / 2]
        try world.barrier()
        let rows = o.batchSize / world.size
        let step = try ModelBenchmarks.train(config: config, batchSize: rows, seqLen: o.seqLen, steps: o.steps, seed: UInt64(world.rank))
        let slowest = try world.gather(step.stepSeconds, root: 0)?.max() ?? step.stepSeconds
        guard world.isRoot else { return nil }
        let bytes = Double(arena.count * MemoryLayout<Float>.stride)
        let n = Double(world.size)
        return Report(threads: EngineThreads.cores, preset: o.preset.rawValue, ranks: world.size, parameters: arena.count, arenaBytes: Int(bytes),
                      repetitions: o.repetitions, allreduceSecondsMedian: middle, allreduceSecondsMin: times[0],
                      algorithmGbitPerSecond: bytes * 8 / middle / 1e9, busGbitPerSecond: 2 * (n - 1) / n * bytes * 8 / middle / 1e9,
                      globalBatch: o.batchSize, rowsPerRank: rows, seqLen: o.seqLen, stepComputeSeconds: slowest,
                      allreduceShareOfStep: middle / (slowest + middle))
    }
}
