// Batches for the reward model. Both responses of a comparison always sit in the same micro-batch,
// so one forward pass gives r_c and r_r and the ranking loss sees them together.
//
// Layout of a micro-batch of n comparisons: the 2n sequences interleaved, [c_0, r_0, c_1, r_1, ...],
// packed in that order into `rows` rows of `seqLen` tokens by BatchLayout.packed's rule (a new row
// when the next sequence does not fit), attention block-diagonal, positions restarting per sequence.
// Hence span 2i is comparison i's chosen response and span 2i + 1 its rejected one.
// Packing (rather than one sequence per row) matters on real data, whose lengths vary widely.
import PlumbTensor

public enum RewardBatches {
    /// Next-fit packing of sequence lengths into rows, the same rule as BatchLayout.packed.
    struct RowFiller {
        let seqLen: Int
        private(set) var rowsUsed = 0
        private var used = 0

        init(seqLen: Int) { self.seqLen = seqLen }

        /// Rows needed after also placing `lengths`, without placing them.
        func rowsAfter(_ lengths: [Int]) -> Int {
            var copy = self
            for l in lengths { copy.place(l) }
            return copy.rowsUsed
        }

        mutating func place(_ length: Int) {
            if rowsUsed == 0 || used + length > seqLen { rowsUsed += 1; used = 0 }
            used += length
        }
    }

    /// Sequences of these lengths cut, in order, into consecutive runs that each fit one batch of
    /// `rows` x `seqLen` (inference: scoring, likelihoods).
    static func consecutiveBatches(lengths: [Int], rows: Int, seqLen: Int) -> [Range<Int>] {
        var batches: [Range<Int>] = []
        var start = 0
        while start < lengths.count {
            var filler = RowFiller(seqLen: seqLen)
            var end = start
            while end < lengths.count && filler.rowsAfter([lengths[end]]) <= rows {
                filler.place(lengths[end])
                end += 1
            }
            batches.append(start..<max(end, start + 1))
            start = max(end, start + 1)
        }
        return batches
    }

    /// Micro-batches of pair indices taken in `order`, each as many pairs as fit `rows` x `seqLen`
    /// (both sequences of a pair in the same micro-batch); `lengths[i]` are pair i's two lengths.
    static func microBatches(order: [Int], lengths: [(Int, Int)], rows: Int, seqLen: Int) -> [[Int]] {
        var batches: [[Int]] = []
        var current: [Int] = []
        var filler = RowFiller(seqLen: seqLen)
        for index in order {
            let pair = [lengths[index].0, lengths[index].1]
            if !current.isEmpty && filler.rowsAfter(pair) > rows {
                batches.append(current)
                current = []
                filler = RowFiller(seqLen: seqLen)
            }
            current.append(index)
            for l in pair { filler.place(l) }
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// `epochs` passes over `pairs`, each in a seeded shuffle, `accumulation` micro-batches a step.
    public static func plan(pairs: [RewardPair], rows: Int, seqLen: Int, accumulation: Int, epochs: Int, seed: UInt64) throws -> BatchPlan {
        if let bad = pairs.first(where: { $0.chosen.isEmpty || $0.rejected.isEmpty || $0.chosen.count > seqLen || $0.rejected.count > seqLen }) {
            throw StageError("reward batch plan: comparison \(bad.record) has sequences of \(bad.chosen.count) and \(bad.rejected.count) tokens; each must have 1...\(seqLen)")
        }
        return try plan(lengths: pairs.map { ($0.chosen.count, $0.rejected.count) }, records: pairs.map(\.record), rows: rows, seqLen: seqLen,
                        accumulation: accumulation, epochs: epochs, seed: seed)
    }

    /// The plan of pairs of sequences of `lengths` (DPO uses it as the reward model does).
    static func plan(lengths: [(Int, Int)], records: [Int], rows: Int, seqLen: Int, accumulation: Int, epochs: Int, seed: UInt64) throws -> BatchPlan {
        guard rows > 0, seqLen > 0, accumulation > 0, epochs > 0 else {
            throw StageError("pair batch plan: rows \(rows), seqLen \(seqLen), accumulation \(accumulation), epochs \(epochs) must be positive")
        }
        // Both sequences of a pair sit in one micro-batch: they must fit its rows together.
        if let i = lengths.indices.first(where: { RowFiller(seqLen: seqLen).rowsAfter([lengths[$0].0, lengths[$0].1]) > rows }) {
            throw StageError("pair batch plan: comparison \(records[i]) needs \(lengths[i].0) + \(lengths[i].1) tokens, more than \(rows) row(s) of \(seqLen) hold; both responses of a pair share a micro-batch, so use --rows 2 or more")
        }
        return BatchPlan(count: lengths.count, accumulation: accumulation, epochs: epochs, seed: seed) { order in
            microBatches(order: order, lengths: lengths, rows: rows, seqLen: seqLen)
        }
    }

    /// The packed layout of `sequences`. Without `responseStarts` nothing is a target (the head
    /// alone predicts no tokens); with them, token t predicts token t + 1 wherever t + 1 is a response
    /// token (for the likelihood term). The last token (EOS, where the head reads) predicts nothing.
    static func layout(_ sequences: [[Int32]], responseStarts: [Int]? = nil, rows: Int, seqLen: Int, padToken: Int32) throws -> BatchLayout {
        let examples = try sequences.indices.map { try example(sequences[$0], responseStart: responseStarts?[$0]) }
        return try BatchLayout.packed(examples, batchSize: rows, seqLen: seqLen, padToken: padToken)
    }

    /// One sequence as an example: without `responseStart` nothing is a target; with it, token t
    /// predicts token t + 1 wherever t + 1 is a response token.
    static func example(_ s: [Int32], responseStart: Int?) throws -> BatchLayout.Example {
        var targets = [Int32](repeating: CrossEntropy.ignoreIndex, count: s.count)
        if let start = responseStart, start < s.count {
            for t in max(start, 1)..<s.count { targets[t - 1] = s[t] }
        }
        return try BatchLayout.Example(tokens: s, targets: targets)
    }

    /// Where the response of each sequence of `interleaved(indices, pairs)` starts.
    static func interleavedResponseStarts(_ indices: [Int], pairs: [RewardPair]) -> [Int] {
        indices.flatMap { [pairs[$0].chosenResponseStart, pairs[$0].rejectedResponseStart] }
    }

    /// The interleaved sequences [c_0, r_0, c_1, r_1, ...] of the pairs `indices`.
    static func interleaved(_ indices: [Int], pairs: [RewardPair]) -> [[Int32]] {
        var out: [[Int32]] = []
        out.reserveCapacity(2 * indices.count)
        for i in indices { out.append(pairs[i].chosen); out.append(pairs[i].rejected) }
        return out
    }
}
