// Which examples form each micro-batch and each optimiser step, for every epoch: a pure function of
// (example lengths, batch shape, packing, accumulation, seed). A resumed run recomputes the same plan
// and skips the steps already taken, so the data position needs no state of its own.
import PlumbTensor

public enum SequenceLayout: String, Codable, CaseIterable, Sendable {
    /// Several examples per row, block-diagonal attention, positions restarting per example.
    case packed
    /// One example per row, right-padded.
    case padded
}

public struct BatchPlan: Equatable, Sendable {
    /// steps[s] = the micro-batches of optimiser step s; each micro-batch lists example indices.
    public let steps: [[[Int]]]
    public let epochs: Int

    /// Plans `epochs` passes over examples of `lengths` tokens, shuffled per epoch from `seed`,
    /// into micro-batches of `rows` x `seqLen`, `accumulation` micro-batches a step. An example longer
    /// than `seqLen` is an error: callers truncate or drop first, and count what they dropped.
    public init(lengths: [Int], rows: Int, seqLen: Int, layout: SequenceLayout, accumulation: Int,
                epochs: Int, seed: UInt64, shuffle: Bool = true) throws {
        guard rows > 0, seqLen > 0, accumulation > 0, epochs > 0 else {
            throw StageError("batch plan: rows \(rows), seqLen \(seqLen), accumulation \(accumulation), epochs \(epochs) must be positive")
        }
        if let i = lengths.firstIndex(where: { $0 < 1 || $0 > seqLen }) {
            throw StageError("batch plan: example \(i) has \(lengths[i]) tokens; it must have 1...\(seqLen)")
        }
        self = BatchPlan(count: lengths.count, accumulation: accumulation, epochs: epochs, seed: seed, shuffle: shuffle) { order in
            BatchPlan.microBatches(order: order, lengths: lengths, rows: rows, seqLen: seqLen, layout: layout)
        }
    }

    /// `epochs` passes over `count` examples, each in a seeded shuffle (or in order), cut into
    /// micro-batches by `microBatches(order)`, `accumulation` micro-batches a step.
    init(count: Int, accumulation: Int, epochs: Int, seed: UInt64, shuffle: Bool = true, microBatches: ([Int]) -> [[Int]]) {
        var steps: [[[Int]]] = []
        for epoch in 0..<epochs {
            var order = Array(0..<count)
            if shuffle {
                var rng = SeededRNG(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
                order.shuffle(using: &rng)
            }
            let micro = microBatches(order)
            var start = 0
            while start < micro.count {
                steps.append(Array(micro[start..<min(start + accumulation, micro.count)]))
                start += accumulation
            }
        }
        self.steps = steps
        self.epochs = epochs
    }

    /// A plan made elsewhere (the reward model plans pairs of sequences itself).
    public init(steps: [[[Int]]], epochs: Int) {
        self.steps = steps
        self.epochs = epochs
    }

    public var totalSteps: Int { steps.count }

    /// Greedy in-order filling, by the same rule as `BatchLayout.packed` / `.padded`.
    static func microBatches(order: [Int], lengths: [Int], rows: Int, seqLen: Int, layout: SequenceLayout) -> [[Int]] {
        var batches: [[Int]] = []
        var current: [Int] = []
        var row = 0, used = 0
        for index in order {
            let length = lengths[index]
            if used > 0 && (layout == .padded || used + length > seqLen) { row += 1; used = 0 }
            if row == rows {
                batches.append(current)
                current = []; row = 0; used = 0
            }
            current.append(index)
            used += length
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}
