// The layout of one training batch (B rows of T tokens): which token sits where, what it must
// predict, its position, and which example (segment) it belongs to. Packing puts several examples
// in one row; attention is then block-diagonal causal (a token sees earlier tokens of its own
// segment only) and positions restart at 0 for each example (TigerBot, METHODS.md section 2).

public struct BatchLayout: Sendable, Equatable {
    /// One example: its tokens and, per token, the token it must predict (or `CrossEntropy.ignoreIndex`).
    public struct Example: Sendable, Equatable {
        public var tokens: [Int32]
        public var targets: [Int32]
        public init(tokens: [Int32], targets: [Int32]) throws {
            guard tokens.count == targets.count else {
                throw TensorError("BatchLayout.Example: \(tokens.count) tokens but \(targets.count) targets")
            }
            self.tokens = tokens; self.targets = targets
        }

        /// Targets that count (not `CrossEntropy.ignoreIndex`): the response tokens of a preference example.
        public var targetCount: Int { targets.reduce(0) { $0 + ($1 == CrossEntropy.ignoreIndex ? 0 : 1) } }
    }

    /// Where example `example` landed: row `row`, flat token indices `row * T + start ..< + length`.
    public struct Span: Sendable, Equatable {
        public let example: Int, row: Int, start: Int, length: Int
        public init(example: Int, row: Int, start: Int, length: Int) {
            self.example = example; self.row = row; self.start = start; self.length = length
        }
    }

    /// Segment id of padding tokens; they never share a segment with an example.
    public static let paddingSegment: Int32 = -1

    public let batchSize: Int            // B
    public let seqLen: Int               // T
    public let tokens: [Int32]           // (B * T)
    public let targets: [Int32]          // (B * T), ignoreIndex where there is no loss
    public let positions: [Int32]        // (B * T), 0-based within each example
    public let segmentIds: [Int32]       // (B * T), example index within its row, paddingSegment for padding
    public let spans: [Span]             // one per example, in input order

    /// A layout from explicit arrays (each B * T long); `spans` may be empty.
    public init(batchSize: Int, seqLen: Int, tokens: [Int32], targets: [Int32], positions: [Int32],
                segmentIds: [Int32], spans: [Span] = []) throws {
        let n = batchSize * seqLen
        guard batchSize > 0, seqLen > 0 else { throw TensorError("BatchLayout: shape (\(batchSize), \(seqLen)) must be positive") }
        try requireCount(tokens, n, "BatchLayout tokens"); try requireCount(targets, n, "BatchLayout targets")
        try requireCount(positions, n, "BatchLayout positions"); try requireCount(segmentIds, n, "BatchLayout segmentIds")
        self.batchSize = batchSize; self.seqLen = seqLen
        self.tokens = tokens; self.targets = targets; self.positions = positions; self.segmentIds = segmentIds
        self.spans = spans
    }

    /// Number of token slots, B * T.
    public var tokenCount: Int { batchSize * seqLen }

    /// Flat token indices of a span.
    public func flatRange(of span: Span) -> Range<Int> {
        let start = span.row * seqLen + span.start
        return start..<(start + span.length)
    }

    /// Number of tokens of a span that have a target (not CrossEntropy.ignoreIndex).
    public func targetCount(of span: Span) -> Int {
        flatRange(of: span).reduce(0) { $0 + (targets[$1] == CrossEntropy.ignoreIndex ? 0 : 1) }
    }

    /// Packs examples in order into `batchSize` rows of `seqLen`, starting a new row when the next
    /// example does not fit; the rest of each row is padding (`padToken`, ignored targets).
    public static func packed(_ examples: [Example], batchSize: Int, seqLen: Int, padToken: Int32) throws -> BatchLayout {
        try build(examples, batchSize: batchSize, seqLen: seqLen, padToken: padToken, onePerRow: false)
    }

    /// One example per row, right-padded.
    public static func padded(_ examples: [Example], batchSize: Int, seqLen: Int, padToken: Int32) throws -> BatchLayout {
        try build(examples, batchSize: batchSize, seqLen: seqLen, padToken: padToken, onePerRow: true)
    }

    private static func build(
        _ examples: [Example], batchSize: Int, seqLen: Int, padToken: Int32, onePerRow: Bool
    ) throws -> BatchLayout {
        let n = batchSize * seqLen
        var tokens = [Int32](repeating: padToken, count: n)
        var targets = [Int32](repeating: CrossEntropy.ignoreIndex, count: n)
        var positions = [Int32](repeating: 0, count: n)
        var segments = [Int32](repeating: paddingSegment, count: n)
        var spans: [Span] = []
        var row = 0, used = 0, segment: Int32 = 0
        for (index, example) in examples.enumerated() {
            let length = example.tokens.count
            guard length > 0, length <= seqLen else {
                throw TensorError("BatchLayout: example \(index) has \(length) tokens; it must have 1...\(seqLen)")
            }
            if used > 0 && (onePerRow || used + length > seqLen) { row += 1; used = 0; segment = 0 }
            guard row < batchSize else {
                throw TensorError("BatchLayout: example \(index) does not fit; \(examples.count) examples need more than \(batchSize) rows of \(seqLen)")
            }
            for j in 0..<length {
                let flat = row * seqLen + used + j
                tokens[flat] = example.tokens[j]; targets[flat] = example.targets[j]
                positions[flat] = Int32(j); segments[flat] = segment
            }
            spans.append(Span(example: index, row: row, start: used, length: length))
            used += length; segment += 1
        }
        return try BatchLayout(batchSize: batchSize, seqLen: seqLen, tokens: tokens, targets: targets,
                               positions: positions, segmentIds: segments, spans: spans)
    }
}
