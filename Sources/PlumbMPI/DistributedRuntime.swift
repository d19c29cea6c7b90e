// A data-parallel job's process-wide state: MPI started once as `Distributed.world`, the scratch
// directory of a rank other than 0 (its stage goes there; `StageOutputOptions.location`), and the
// job's ending. Rank 0 is the job's face: it writes the stage and prints. Every other rank's standard
// output and error go to /dev/null, except the message of an error, which names the rank. A rank that
// fails prints that message and aborts the whole job (MPI_Abort), so no rank waits for a peer that is
// gone; mpirun also ends the job when a rank dies without a word.
import Foundation
import PlumbTensor

public enum DistributedRuntime {
    nonisolated(unsafe) private static var mpi: MPICommunicator?
    /// Standard error as it was before a non-zero rank silenced it, for that rank's error message.
    nonisolated(unsafe) private static var errorDescriptor: Int32 = STDERR_FILENO
    nonisolated(unsafe) private static var scratch: URL?

    public static var active: Bool { mpi != nil }

    /// Starts MPI (once) and makes its world the process's `Distributed.world`; a rank other than 0
    /// goes quiet.
    public static func startMPI() throws {
        guard mpi == nil else { return }
        let world = try MPICommunicator()
        mpi = world
        Distributed.world = world
        if world.rank > 0 { silence() }
    }

    /// Where this rank's stage goes when it is not rank 0: a directory of its own under the system's
    /// temporary directory (in place of RUNS), so that no two ranks write the same file.
    /// A killed rank leaves its directory behind; the next one removes those whose process is gone.
    public static func scratchRoot() -> URL {
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

    /// Ends MPI after a command that succeeded, and removes this rank's scratch directory.
    public static func finish() {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        mpi?.finalize()
    }

    /// After a command failed on any rank of a job of several: prints the error with the rank's name
    /// and ends every rank (without returning). Does nothing in a job of one process.
    public static func abortIfDistributed(_ message: String) {
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
