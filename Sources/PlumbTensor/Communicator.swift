// The processes of a data-parallel job and the few collective operations training and sampling need:
// sum arrays over every rank (gradient arenas, counts), broadcast bytes from one rank, gather bytes
// to one rank, a barrier and a job-wide abort. `SingleProcess` is the job of one process (every
// operation a no-op); PlumbMPI's `MPICommunicator` is Open MPI's world. `Distributed.world` is the
// process's communicator: the command line sets it once, before any stage starts, when asked for
// `--distributed mpi`; everything else reads it.
import Foundation

public protocol Communicator: AnyObject {
    /// This process's rank, 0..<size.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// Replaces `count` floats at `buffer` by their sum over every rank; every rank ends with the
    /// same bits.
    func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
    func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws
    /// Copies `count` bytes at `buffer` on `root` into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, root: Int) throws
    /// Every rank's bytes, in rank order, on `root`; nil on the other ranks.
    func gather(_ bytes: [UInt8], root: Int) throws -> [[UInt8]]?
    func barrier() throws
    /// Ends every process of the job now, `message` first on this process's standard error.
    func abort(_ message: String, code: Int32) -> Never
}

/// The job of one process: sums are the process's own values, broadcasts and barriers do nothing.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, root: Int) throws {}
    public func gather(_ bytes: [UInt8], root: Int) throws -> [[UInt8]]? { [bytes] }
    public func barrier() throws {}
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}

/// The process's communicator (SingleProcess unless the command line started MPI).
public enum Distributed {
    nonisolated(unsafe) public static var world: any Communicator = SingleProcess()
}

extension Communicator {
    /// Rank 0 writes every file of a stage; the others compute and keep nothing.
    public var isRoot: Bool { rank == 0 }

    /// The element-wise sum of `values` over every rank.
    public func allreduceSum(_ values: [Double]) throws -> [Double] {
        var out = values
        try out.withUnsafeMutableBufferPointer { try allreduceSum($0.baseAddress!, count: $0.count) }
        return out
    }

    /// `root`'s bytes on every rank (the other ranks' `bytes` are ignored).
    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        guard size > 1 else { return bytes }
        var count = [Double(bytes.count)]
        try count.withUnsafeMutableBytes { try broadcast($0.baseAddress!, count: $0.count, root: root) }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        if !out.isEmpty { try out.withUnsafeMutableBytes { try broadcast($0.baseAddress!, count: $0.count, root: root) } }
        return out
    }

    /// `root`'s value on every rank, carried as JSON.
    public func broadcast<T: Codable>(_ value: T, root: Int) throws -> T {
        guard size > 1 else { return value }
        let bytes = rank == root ? [UInt8](try JSONEncoder().encode(value)) : []
        return try JSONDecoder().decode(T.self, from: Data(try broadcast(bytes, root: root)))
    }

    /// Every rank's value in rank order on `root` (nil elsewhere), carried as JSON.
    public func gather<T: Codable>(_ value: T, root: Int) throws -> [T]? {
        guard size > 1 else { return [value] }
        guard let parts = try gather([UInt8](try JSONEncoder().encode(value)), root: root) else { return nil }
        return try parts.map { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    /// Sums a storage arena over every rank, in place.
    public func allreduceSum(_ storage: TensorStorage) throws {
        guard size > 1, storage.count > 0 else { return }
        try allreduceSum(storage.base, count: storage.count)
    }

    /// Copies a storage arena from `root` to every rank.
    public func broadcast(_ storage: TensorStorage, root: Int) throws {
        guard size > 1, storage.count > 0 else { return }
        try broadcast(UnsafeMutableRawPointer(storage.base), count: storage.count * MemoryLayout<Float>.stride, root: root)
    }

    /// Copies AdamW's moments and step count from `root` to every rank.
    public func broadcast(_ optimizer: AdamW, root: Int) throws {
        guard size > 1 else { return }
        try broadcast(optimizer.m, root: root)
        try broadcast(optimizer.v, root: root)
        var step = [Double(optimizer.step)]
        try step.withUnsafeMutableBytes { try broadcast($0.baseAddress!, count: $0.count, root: root) }
        optimizer.step = Int(step[0])
    }
}

/// Which of `count` items (prompts, records) a rank handles: those whose index mod size is its rank,
/// and how the ranks' results are put back in index order.
public enum Sharding {
    public static func indices(count: Int, rank: Int, size: Int) -> [Int] {
        Array(stride(from: rank, to: count, by: size))
    }

    /// Runs `work` on this rank's share of `count` items (their indices, in order; it returns one
    /// result per index) and returns every result in index order on rank 0; nil on the others.
    public static func gatherInOrder<T: Codable>(count: Int, world: any Communicator,
                                                 _ work: ([Int]) throws -> [T]) throws -> [T]? {
        let mine = indices(count: count, rank: world.rank, size: world.size)
        let results = try work(mine)
        guard results.count == mine.count else {
            throw TensorError("sharding: rank \(world.rank) returned \(results.count) results for \(mine.count) items")
        }
        guard world.size > 1 else { return results }
        guard let parts = try world.gather(results, root: 0) else { return nil }
        var merged: [T?] = Array(repeating: nil, count: count)
        for (rank, part) in parts.enumerated() {
            for (j, item) in part.enumerated() { merged[rank + j * world.size] = item }
        }
        return merged.map { $0! }
    }
}
