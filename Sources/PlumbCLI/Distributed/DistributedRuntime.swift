// `--distributed mpi`: the command line's side of a data-parallel job. Parsing the option starts MPI
// (once) and makes it the process's `Distributed.world`; without the option nothing of MPI runs.
// Rank 0 is the job's face: it writes the stage and prints. Every other rank writes its stage into a
// scratch directory of its own (removed at the end; `StageOutputOptions.location` points there) and
// its standard output and error go to /dev/null, except the message of an error, which names the
// rank. A rank that fails prints that message and aborts the whole job (MPI_Abort), so no rank waits
// for a peer that is gone; mpirun also ends the job when a rank dies without a word.
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

enum DistributedRuntime {
    nonisolated(unsafe) private static var mpi: MPICommunicator?
    /// Standard error as it was before a non-zero rank silenced it, for that rank's error message.
    nonisolated(unsafe) private static var errorDescriptor: Int32 = STDERR_FILENO
    nonisolated(unsafe) private static var scratch: URL?

    static var active: Bool { mpi != nil }

    static func start(_ mode: DistributedMode) throws {
        guard mpi == nil else { return }
        switch mode {
        case .mpi:
            let world = try MPICommunicator()
            mpi = world
            Distributed.world = world
            if world.rank > 0 { silence() }
        }
    }

    /// Where this rank's stage goes when it is not rank 0: a directory of its own under the system's
    /// temporary directory (in place of RUNS), so that no two ranks write the same file.
    /// A killed rank leaves its directory behind; the next one removes those whose process is gone.
    static func scratchRoot() -> URL {
        if let scratch { return scratch }
        let temporary = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix("plumb-rank-") {
            if let pid = name.split(separator: "-").last.flatMap({ Int32($0) }), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        let url = temporary.appendingPathComponent("plumb-rank-\(Distributed.world.rank)-\(getpid())", isDirectory: true)
        scratch = url
        return url
    }

    /// Where a stage goes: `location`, or on a rank other than 0 of a distributed job the same
    /// RUN/STAGE under that rank's scratch directory (rank 0 alone writes the stage).
    static func rankLocation(_ location: StageLocation) -> StageLocation {
        Distributed.world.isRoot ? location : StageLocation(runsRoot: scratchRoot(), run: location.run, stage: location.stage)
    }

    /// Ends MPI after a command that succeeded, and removes this rank's scratch directory.
    static func finish() {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        mpi?.finalize()
    }

    /// After a command failed on any rank of a job of several: prints the error with the rank's name
    /// and ends every rank (without returning). Does nothing in a job of one process.
    static func abortIfDistributed(_ message: String) {
        guard let mpi, mpi.size > 1 else { return }
        let text = "plumb: rank \(mpi.rank) of \(mpi.size) failed: \(message)\n"
        _ = text.withCString { write(errorDescriptor, $0, strlen($0)) }
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        mpi.abort("plumb: stopping all \(mpi.size) ranks because rank \(mpi.rank) failed", code: 1)
    }

    private static func silence() {
        errorDescriptor = dup(STDERR_FILENO)
        let null = open("/dev/null", O_WRONLY)
        guard null >= 0 else { return }
        dup2(null, STDOUT_FILENO)
        dup2(null, STDERR_FILENO)
        close(null)
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
