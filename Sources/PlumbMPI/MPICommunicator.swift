// Open MPI's world as a `Communicator` (PlumbTensor): one process per rank, started by `mpirun -np N`
// (or alone, a singleton of one rank). Every call is made from the thread that initialised MPI.
// Large arrays go in pieces of at most 2^30 elements, MPI's counts being C ints. A failed call
// throws an error naming the rank and MPI's text for it; the command line then aborts the job.
import CMPI
import Foundation
import PlumbTensor

public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private static let piece = 1 << 30

    /// Initialises MPI (once per process) and reads this process's rank and the job's size.
    public init() throws {
        let rc = plumb_mpi_init()
        guard rc == plumb_mpi_success() else { throw TensorError("MPI_Init failed: \(Self.text(rc))") }
        rank = Int(plumb_mpi_rank())
        size = Int(plumb_mpi_size())
    }

    /// Ends MPI for this process; after this no collective may run.
    public func finalize() { _ = plumb_mpi_finalize() }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        var start = 0
        while start < count {
            let n = min(Self.piece, count - start)
            try check(plumb_mpi_allreduce_sum_float(buffer + start, Int32(n)), "MPI_Allreduce of \(count) floats")
            start += n
        }
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        var start = 0
        while start < count {
            let n = min(Self.piece, count - start)
            try check(plumb_mpi_allreduce_sum_double(buffer + start, Int32(n)), "MPI_Allreduce of \(count) doubles")
            start += n
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, root: Int) throws {
        var start = 0
        while start < count {
            let n = min(Self.piece, count - start)
            try check(plumb_mpi_broadcast_bytes(buffer + start, Int32(n), Int32(root)), "MPI_Bcast of \(count) bytes")
            start += n
        }
    }

    public func gather(_ bytes: [UInt8], root: Int) throws -> [[UInt8]]? {
        guard bytes.count < Int(Int32.max) else { throw TensorError("rank \(rank): cannot gather \(bytes.count) bytes in one piece") }
        var counts = [Int32](repeating: 0, count: size)
        try counts.withUnsafeMutableBufferPointer {
            try check(plumb_mpi_gather_int(Int32(bytes.count), $0.baseAddress, Int32(root)), "MPI_Gather of byte counts")
        }
        var displacements = [Int32](repeating: 0, count: size)
        var total = 0
        if rank == root {
            for r in 0..<size { displacements[r] = Int32(total); total += Int(counts[r]) }
            guard total < Int(Int32.max) else { throw TensorError("rank \(rank): the ranks' results (\(total) bytes) exceed one gather") }
        }
        var buffer = [UInt8](repeating: 0, count: max(total, 1))
        try bytes.withUnsafeBytes { send in
            try buffer.withUnsafeMutableBytes { receive in
                try counts.withUnsafeBufferPointer { c in
                    try displacements.withUnsafeBufferPointer { d in
                        try check(plumb_mpi_gatherv_bytes(send.baseAddress, Int32(bytes.count), receive.baseAddress, c.baseAddress,
                                                          d.baseAddress, Int32(root)), "MPI_Gatherv of \(bytes.count) bytes")
                    }
                }
            }
        }
        guard rank == root else { return nil }
        return (0..<size).map { r in Array(buffer[Int(displacements[r])..<Int(displacements[r]) + Int(counts[r])]) }
    }

    public func barrier() throws { try check(plumb_mpi_barrier(), "MPI_Barrier") }

    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        plumb_mpi_abort(code)
        exit(code)
    }

    private func check(_ rc: Int32, _ what: String) throws {
        guard rc != plumb_mpi_success() else { return }
        throw TensorError("rank \(rank) of \(size): \(what) failed: \(Self.text(rc)) (is another rank gone?)")
    }

    private static func text(_ rc: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        plumb_mpi_error_string(rc, &buffer, Int32(buffer.count))
        return String(cString: buffer)
    }
}
