// Token embedding: a gather from the table and, backward, a scatter-add into its gradient.
//   forward:  out[n, :] = table[tokens[n], :]        table (V, C), out (N, C) or (B, T, C)
//   backward: dTable[tokens[n], :] += dOut[n, :]

public enum Embedding {
    public static func forward(table: Tensor, tokens: [Int32], out: Tensor) throws {
        let profiled = StepProfile.begin(.embedding); defer { StepProfile.end(profiled) }
        let (vocab, width) = try check(table: table, tokens: tokens, rows: out, "Embedding.forward out")
        let pt = table.pointer, po = out.pointer
        for (n, token) in tokens.enumerated() {
            guard token >= 0, Int(token) < vocab else {
                throw TensorError("Embedding.forward: token \(token) at position \(n) is outside the vocabulary 0..<\(vocab)")
            }
            (po + n * width).update(from: pt + Int(token) * width, count: width)
        }
    }

    /// dTable[tokens[n]] += dOut[n]. Columns are split across the cores and each column adds the
    /// positions in order, so repeated tokens add in position order (deterministic, any thread count).
    public static func backward(dOut: Tensor, tokens: [Int32], dTable: Tensor) throws {
        let profiled = StepProfile.begin(.embedding); defer { StepProfile.end(profiled) }
        let (vocab, width) = try check(table: dTable, tokens: tokens, rows: dOut, "Embedding.backward dOut")
        for (n, token) in tokens.enumerated() where token < 0 || Int(token) >= vocab {
            throw TensorError("Embedding.backward: token \(token) at position \(n) is outside the vocabulary 0..<\(vocab)")
        }
        let pg = dOut.pointer, pd = dTable.pointer
        tokens.withUnsafeBufferPointer { tb in
            EngineThreads.forEachRowChunk(rows: width, costPerRow: tb.count) { columns in
                for n in 0..<tb.count {
                    let src = pg + n * width, dst = pd + Int(tb[n]) * width
                    for c in columns { dst[c] += src[c] }
                }
            }
        }
    }

    private static func check(table: Tensor, tokens: [Int32], rows: Tensor, _ what: String) throws -> (Int, Int) {
        guard table.rank == 2 else { throw TensorError("Embedding: table must be (V, C), got \(table.shape)") }
        let n = try rows.rowCount(width: table.shape[1], "\(what) (table \(table.shape))")
        try requireCount(tokens, n, "\(what) tokens")
        return (table.shape[0], table.shape[1])
    }
}
