// How attention cuts each batch row into query tiles: a tile is at most `rowsPerTile` rows of one
// segment, and tiles start at their segment's first token. Every query of a tile then sees the same
// first key (its segment's start), and a tile's products have the same shapes and operands wherever
// its segment sits in the batch: an example's attention is the same bits alone or packed beside others.
//
//   row:   | seg 0 (100 tokens)        | seg 1 (40) | padding (-1) |
//   tiles: [0, 64) [64, 100)           [100, 140)   [140, T)            (64 rows per tile)

/// One query tile: rows start..<end of a batch row, all in one segment, which starts at `keysFrom`.
struct QueryTile {
    let start: Int, end: Int, keysFrom: Int
    var rows: Int { end - start }
}

struct QueryTiles {
    private let tiles: [QueryTile]
    private let firstOfRow: [Int]   // tiles of batch row b: firstOfRow[b]..<firstOfRow[b + 1]

    /// Segments must be contiguous runs of one id within a row (as BatchLayout makes them); an id that
    /// reappears after another is an error, since "same id and not later" would then not be one run.
    init(_ segmentIds: [Int32], batch: Int, seqLen t: Int, rowsPerTile: Int) throws {
        var tiles: [QueryTile] = [], firstOfRow = [0]
        for b in 0..<batch {
            var seen = Set<Int32>(), runStart = 0
            for i in 1...t where i == t || segmentIds[b * t + i] != segmentIds[b * t + i - 1] {
                for start in stride(from: runStart, to: i, by: rowsPerTile) {
                    tiles.append(QueryTile(start: start, end: min(start + rowsPerTile, i), keysFrom: runStart))
                }
                seen.insert(segmentIds[b * t + runStart])
                if i < t, seen.contains(segmentIds[b * t + i]) {
                    throw TensorError("Attention: segment id \(segmentIds[b * t + i]) reappears at row \(b), token \(i); segments must be contiguous runs")
                }
                runStart = i
            }
            firstOfRow.append(tiles.count)
        }
        self.tiles = tiles; self.firstOfRow = firstOfRow
    }

    func ofRow(_ b: Int) -> ArraySlice<QueryTile> { tiles[firstOfRow[b]..<firstOfRow[b + 1]] }
}
