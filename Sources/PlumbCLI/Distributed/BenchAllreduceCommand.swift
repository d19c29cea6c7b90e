// `plumb bench allreduce` (under `mpirun -np N`): the time to sum a preset's gradient arena over the
// ranks (MPI_Allreduce, in place), and its share of a data-parallel training step measured in the same
// run: every rank times full training steps over its share of the global batch at the same time, as
// the ranks of a job on this machine would. One JSON object, from rank 0.
import ArgumentParser
import Foundation
import PlumbModel
import PlumbTensor

struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Allreduce time of a preset's gradient arena between mpirun's ranks, and its share of a training step (run under mpirun).")

    @Option(help: "Model shape.") var preset: LlamaPreset = .stories15m
    @Option(help: "Sequences of the global batch; each rank trains on its share.") var batchSize: Int = 8
    @Option(help: "Tokens per sequence.") var seqLen: Int = 256
    @Option(help: "Timed training steps per rank (after one warm-up step).") var steps: Int = 3
    @Option(help: "Timed allreduces (after three warm-up ones).") var repetitions: Int = 20

    func validate() throws {
        guard batchSize > 0, seqLen > 0, steps > 0, repetitions > 0 else {
            throw ValidationError("--batch-size, --seq-len, --steps and --repetitions must be positive")
        }
    }

    func run() throws {
        try DistributedRuntime.start(.mpi)
        let world = Distributed.world
        guard batchSize % world.size == 0 else { throw CLIError("--batch-size \(batchSize) does not split evenly over \(world.size) ranks") }
        let config = preset.config
        let model = try LlamaModel(config: config, heads: .lm, seed: 0)
        let arena = model.parameters.gradients
        for i in 0..<arena.count { arena.base[i] = Float(world.rank + 1) * 1e-3 * Float(i % 97) }
        for _ in 0..<3 { try world.allreduceSum(arena) }
        var times: [Double] = []
        for _ in 0..<repetitions {
            try world.barrier()
            let start = monotonicSeconds()
            try world.allreduceSum(arena)
            times.append(monotonicSeconds() - start)
        }
        times.sort()
        let median = times[times.count / 2]
        try world.barrier()
        let step = try ModelBenchmarks.train(config: config, batchSize: batchSize / world.size, seqLen: seqLen, steps: steps, seed: UInt64(world.rank))
        let slowest = try world.gather(step.stepSeconds, root: 0)?.max() ?? step.stepSeconds
        guard world.isRoot else { return }
        let bytes = Double(arena.count * MemoryLayout<Float>.stride)
        let n = Double(world.size)
        try printJSON([
            "benchmark": "allreduce", "threads": EngineThreads.cores, "preset": preset.rawValue, "ranks": world.size, "parameters": arena.count,
            "arena_bytes": Int(bytes), "repetitions": repetitions,
            "allreduce_seconds_median": median, "allreduce_seconds_min": times[0],
            "algorithm_gbit_per_second": bytes * 8 / median / 1e9,
            "bus_gbit_per_second": 2 * (n - 1) / n * bytes * 8 / median / 1e9,
            "global_batch": batchSize, "rows_per_rank": batchSize / world.size, "seq_len": seqLen,
            "step_compute_seconds": slowest,
            "allreduce_share_of_step": median / (slowest + median),
        ])
    }

    private func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
