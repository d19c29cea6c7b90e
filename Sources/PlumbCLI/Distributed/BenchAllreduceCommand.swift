// `plumb bench allreduce` (under `mpirun -np N`): starts MPI, runs AllreduceBench (PlumbModel/Benchmarks)
// on every rank; rank 0 prints its report as one JSON object.
import ArgumentParser
import PlumbMPI
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
        var o = AllreduceBench.Options()
        (o.preset, o.batchSize, o.seqLen, o.steps, o.repetitions) = (preset, batchSize, seqLen, steps, repetitions)
        if let report = try AllreduceBench.run(o, world: Distributed.world) { try printReport(report) }
    }
}
