// One pool of threads for the decoding kernels (matrix-vector products, attention over the KV
// cache, sampling): the caller and (cores - 1) workers take chunks of a job from one atomic word,
// so a job costs a few atomic operations (no queue, no allocation), and a core that another
// process holds simply takes fewer chunks.
//
// The word packs (generation, chunk count, next chunk); a thread claims chunk i by a
// compare-and-swap from (g, n, i) to (g, n, i + 1), so a late thread can never claim a chunk of a
// job that has moved on. The job's closure is read only after a successful claim, and the caller
// waits until every claimed chunk is done before it returns, so the closure never outlives the call.
// Workers spin for a while after a job (decoding calls the pool every few microseconds), then
// poll while yielding their core, then sleep on a condition variable: an idle pool costs nothing.
//
// Inside a job OpenBLAS must run single-threaded (`withSingleThreadedBLAS`), or OpenBLAS's threads
// and the pool's fight over the same cores (docs/model.md, "Decoding speed").
import CBLAS
import Foundation
import Synchronization

public final class ThreadPool: @unchecked Sendable {
    /// The pool every decoding kernel shares: one thread per core (the caller counts as one).
    public static let shared = ThreadPool(threads: EngineThreads.cores)

    /// Threads that run chunks, the caller included.
    public let threads: Int
    private let state = Atomic<UInt64>(0)       // generation << 40 | count << 20 | next
    private let completed = Atomic<Int>(0)      // chunks of the current job finished
    private let sleepers = Atomic<Int>(0)       // workers waiting on `wake`
    private let busy = Atomic<Bool>(false)      // a job is running: nested or concurrent calls run inline
    private let wake = NSCondition()
    private var job: UnsafePointer<(Int, Int) -> Void>?

    private static let fieldBits: UInt64 = 20
    private static let fieldMask: UInt64 = (1 << fieldBits) - 1
    /// Most chunks in one job (the width of a field of `state`).
    public static let maxChunks = Int(fieldMask)
    /// Empty polls of `state` a worker spins through, then polls with a yield of its core in
    /// between (other processes may run), before it goes to sleep (~0.1-1 ms in all).
    private static let spinPolls = 4_000
    private static let yieldPolls = 500

    public init(threads: Int) {
        self.threads = max(1, threads)
        for worker in 1..<self.threads {
            let thread = Thread { [unowned self] in self.workerLoop(worker) }
            thread.name = "plumb-pool-\(worker)"
            thread.start()
        }
    }

    /// Runs `body(chunk, thread)` for every chunk in 0..<chunks, spread over the pool's threads;
    /// `thread` (0..<threads) tells the body which per-thread scratch it may use. Returns when every
    /// chunk is done. Chunks must write disjoint memory. Nested or concurrent calls run inline and
    /// report thread 0, so per-thread scratch must belong to the call (or its caller), never be global.
    public func forEach(chunks: Int, _ body: (_ chunk: Int, _ thread: Int) -> Void) {
        precondition(chunks >= 0 && chunks <= Self.maxChunks, "ThreadPool: \(chunks) chunks")
        if chunks == 0 { return }
        if threads == 1 || chunks == 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for c in 0..<chunks { body(c, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { pointer in
                job = pointer
                completed.store(0, ordering: .relaxed)
                let generation = (state.load(ordering: .relaxed) >> (2 * Self.fieldBits)) &+ 1
                let fresh = (generation << (2 * Self.fieldBits)) | (UInt64(chunks) << Self.fieldBits)
                state.store(fresh, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    wake.lock(); wake.broadcast(); wake.unlock()
                }
                while claimAndRun(thread: 0) {}
                var polls = 0
                while completed.load(ordering: .acquiring) < chunks {
                    polls += 1
                    if polls > 4096 { sched_yield() }   // a worker holding a chunk was descheduled
                }
                job = nil
            }
        }
        busy.store(false, ordering: .releasing)
    }

    /// Runs `body` with OpenBLAS on one thread (each pool thread then calls it on its own chunk),
    /// and gives OpenBLAS all cores back when the outermost such call ends. The thread count is
    /// process-wide, so calls nest (a pool job whose chunks call it again, on any thread): an inner
    /// call never hands the cores back while an outer one still runs, since a BLAS call that went
    /// multi-threaded in the middle of a job would change its results' bits.
    public static func withSingleThreadedBLAS<T>(_ body: () throws -> T) rethrows -> T {
        EngineThreads.configureBLAS()
        singleThreadedDepth.withLock { depth in
            if depth == 0 { openblas_set_num_threads(1) }
            depth += 1
        }
        defer {
            singleThreadedDepth.withLock { depth in
                depth -= 1
                if depth == 0 { openblas_set_num_threads(Int32(EngineThreads.cores)) }
            }
        }
        return try body()
    }

    /// How many `withSingleThreadedBLAS` calls are running, on all threads.
    private static let singleThreadedDepth = Mutex<Int>(0)

    /// Claims the next chunk of the current job and runs it; false when no chunk is left.
    @inline(never)
    private func claimAndRun(thread: Int) -> Bool {
        var word = state.load(ordering: .acquiring)
        while true {
            let next = word & Self.fieldMask, count = (word >> Self.fieldBits) & Self.fieldMask
            if next >= count { return false }
            let (exchanged, found) = state.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                run(chunk: Int(next), thread: thread)
                completed.add(1, ordering: .releasing)
                return true
            }
            word = found
        }
    }

    /// Calls the job's body; its own frame, so that any retain of the closure ends before the chunk counts as done.
    @inline(never)
    private func run(chunk: Int, thread: Int) { job!.pointee(chunk, thread) }

    private func workerLoop(_ thread: Int) {
        while true {
            while claimAndRun(thread: thread) {}
            let idle = state.load(ordering: .acquiring)
            var polls = 0
            while state.load(ordering: .acquiring) == idle && polls < Self.spinPolls + Self.yieldPolls {
                polls += 1
                if polls > Self.spinPolls { sched_yield() }
            }
            if polls < Self.spinPolls + Self.yieldPolls { continue }
            // Sleep until the next job is published (checked under the lock: no lost wake-up).
            sleepers.add(1, ordering: .sequentiallyConsistent)
            wake.lock()
            while state.load(ordering: .sequentiallyConsistent) == idle { wake.wait() }
            wake.unlock()
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
        }
    }
}
