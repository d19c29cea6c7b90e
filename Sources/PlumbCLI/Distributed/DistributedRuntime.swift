// `--distributed mpi`: the command line's side of a data-parallel job (DistributedRuntime, PlumbMPI).
// Parsing the option starts MPI (once); without the option nothing of MPI runs. A rank other than 0
// writes its stage under its scratch directory (`rankLocation`).
import ArgumentParser
import Foundation
import PlumbMPI
import PlumbStages
import PlumbTensor

extension DistributedMode: ExpressibleByArgument {}

struct DistributedOptions: ParsableArguments {
    @Option(help: "Run as one rank of a data-parallel job: 'mpi' (start under mpirun -np N; docs/distributed.md).")
    var distributed: DistributedMode?

    func validate() throws {
        if let distributed { try DistributedRuntime.start(distributed) }
    }
}

extension DistributedRuntime {
    static func start(_ mode: DistributedMode) throws {
        switch mode {
        case .mpi: try startMPI()
        }
    }

    /// Where a stage goes: `location`, or on a rank other than 0 of a distributed job the same
    /// RUN/STAGE under that rank's scratch directory (rank 0 alone writes the stage).
    static func rankLocation(_ location: StageLocation) -> StageLocation {
        Distributed.world.isRoot ? location : StageLocation(runsRoot: scratchRoot(), run: location.run, stage: location.stage)
    }
}

extension PlumbCommand {
    /// The `plumb` executable's entry: `main()` with the distributed job's ending (MPI finalised on
    /// success; the job aborted with the failing rank's name on an error).
    public static func mainWithDistributedExit() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            DistributedRuntime.abortIfDistributed(fullMessage(for: error))
            DistributedRuntime.finish()
            exit(withError: error)
        }
        DistributedRuntime.finish()
        Glibc.exit(0)
    }
}
