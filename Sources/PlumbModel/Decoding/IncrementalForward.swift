// The forward pass over new tokens of many sequences at once, against a KV cache.
//
// Each call takes N rows (slot, token, position): one row per sequence when decoding, all prompt
// rows of a sequence when prefilling, or any mix. Every projection is one matrix-matrix product over
// the N rows; only attention (CachedAttention) is per row. Logits are computed only for the rows
// asked for. Scratch is sized once for `maxRows` rows (llama2.c `RunState`, batched).
// The matrices are read through `DecodeWeights`: the model's fp32 tensors, or 8-bit copies (q8)
// made from them, remade by `reloadWeights()` after the model's weights change. A LoRA adapter set
// with `use(adapter:)` adds its share after each adapted projection, unmerged (DecodeAdapter).
import PlumbTensor

public final class IncrementalForward {
    public let config: LlamaConfig
    public let weights: LlamaWeights
    public let format: DecodeWeightFormat
    public private(set) var decodeWeights: DecodeWeights
    public let cache: KVCache
    public let maxRows: Int
    let rope: RoPETable
    let layout: RoPELayout
    // Scratch for up to maxRows rows.
    let x: Tensor        // (R, C) residual stream
    let xn: Tensor       // (R, C) normed
    let q: Tensor        // (R, H * D)
    let k: Tensor        // (R, KVH * D)
    let v: Tensor        // (R, KVH * D)
    let att: Tensor      // (R, H * D)
    let gate: Tensor     // (R, F)
    let up: Tensor       // (R, F)
    let rstd: Tensor     // (R)
    let scores: Tensor   // (R * H, capacity)
    /// The adapter every call runs with, or nil for the bare base.
    private var lora: DecodeAdapter?

    /// The adapter the next calls decode through (nil: the bare base). The cache holds keys and values
    /// of whichever adapter wrote them: switch adapters between generations, not within one.
    public var adapter: LoRAAdapter? { lora?.adapter }

    public func use(adapter: LoRAAdapter?) throws {
        guard let adapter else { lora = nil; return }
        if lora?.adapter === adapter { return }
        lora = try DecodeAdapter(adapter, config: config, maxRows: maxRows)
    }

    public init(config: LlamaConfig, weights: LlamaWeights, cache: KVCache, maxRows: Int, format: DecodeWeightFormat = .f32) throws {
        guard weights.lmHead != nil else { throw TensorError("IncrementalForward: the model has no LM head") }
        self.config = config; self.weights = weights; self.cache = cache; self.maxRows = maxRows; self.format = format
        decodeWeights = try DecodeWeights(weights, format: format)
        rope = try RoPETable(headDim: config.headDim, maxPositions: cache.capacity, theta: Double(config.ropeTheta))
        layout = config.rotaryLayout == .halves ? .halves : .adjacentPairs
        let c = config
        x = Tensor(zeros: [maxRows, c.dim]); xn = Tensor(zeros: [maxRows, c.dim])
        q = Tensor(zeros: [maxRows, c.nHeads * c.headDim]); att = Tensor(zeros: [maxRows, c.nHeads * c.headDim])
        k = Tensor(zeros: [maxRows, c.kvDim]); v = Tensor(zeros: [maxRows, c.kvDim])
        gate = Tensor(zeros: [maxRows, c.hiddenDim]); up = Tensor(zeros: [maxRows, c.hiddenDim])
        rstd = Tensor(zeros: [maxRows]); scores = Tensor(zeros: [maxRows * c.nHeads, cache.capacity])
        // Every step streams all weights: back their storage with 2 MB pages where Linux allows.
        decodeWeights.preferHugePages()
    }

    /// Remakes the 8-bit weights from the model's current fp32 weights (after a training step);
    /// nothing to do for fp32, which reads the model's tensors directly.
    public func reloadWeights() throws {
        guard format != .f32 else { return }
        decodeWeights = try DecodeWeights(weights, format: format)
        decodeWeights.preferHugePages()
    }

    /// Runs rows (slots[i], tokens[i], positions[i]); writes their keys/values into the cache and the
    /// logits of rows `logitRows` into `logits` (logitRows.count, V), in that order.
    public func forward(tokens: [Int32], slots: [Int], positions: [Int32], logitRows: [Int], logits: Tensor) throws {
        let n = tokens.count
        guard n > 0, n <= maxRows, slots.count == n, positions.count == n else {
            throw TensorError("IncrementalForward: \(n) tokens, \(slots.count) slots, \(positions.count) positions (max rows \(maxRows))")
        }
        for i in 0..<n where slots[i] < 0 || slots[i] >= cache.slots || positions[i] < 0 || Int(positions[i]) >= cache.capacity {
            throw TensorError("IncrementalForward: row \(i) has slot \(slots[i]) / position \(positions[i]) outside the cache (\(cache.slots) x \(cache.capacity))")
        }
        try logits.requireShape([logitRows.count, config.vocabSize], "IncrementalForward logits")
        let c = config
        let xr = try rows(x, n), xnr = try rows(xn, n), rs = try rows(rstd, n)
        let dw = decodeWeights
        try Embedding.forward(table: dw.embedding, tokens: tokens, out: xr)
        for (l, w) in dw.layers.enumerated() {
            // 1. attention: xn = norm(x); q, k, v = xn W^T; rotate; store k, v; attend; x += att Wo^T
            try RMSNorm.forward(x: xr, weight: w.attentionNorm, eps: c.rmsNormEps, out: xnr, rstd: rs)
            let qr = try rows(q, n), kr = try rows(k, n), vr = try rows(v, n), ar = try rows(att, n)
            try DecodeLinear.forward(x: xnr, [(w.wq, qr), (w.wk, kr), (w.wv, vr)])
            try lora?.add([(.q, qr), (.k, kr), (.v, vr)], layer: l, x: xnr, rows: n)
            let q4 = try qr.reshaped([n, c.nHeads, c.headDim]), k4 = try kr.reshaped([n, c.nKVHeads, c.headDim])
            try RoPE.forward(x: q4, positions: positions, table: rope, layout: layout, out: q4)
            try RoPE.forward(x: k4, positions: positions, table: rope, layout: layout, out: k4)
            for i in 0..<n {
                let at = cache.offset(layer: l, slot: slots[i], position: Int(positions[i]))
                (cache.keys.pointer + at).update(from: kr.pointer + i * c.kvDim, count: c.kvDim)
                (cache.values.pointer + at).update(from: vr.pointer + i * c.kvDim, count: c.kvDim)
            }
            slots.withUnsafeBufferPointer { sb in
                positions.withUnsafeBufferPointer { pb in
                    CachedAttention.forward(q: qr.pointer, out: ar.pointer, scores: scores.pointer, slots: sb, positions: pb,
                                            cache: cache, layer: l, heads: c.nHeads, headDim: c.headDim)
                }
            }
            try DecodeLinear.forward(x: ar, [(w.wo, xr)], accumulate: true)
            try lora?.add([(.o, xr)], layer: l, x: ar, rows: n)
            // 2. MLP: xn = norm(x); x += (silu(xn Wg^T) * (xn Wu^T)) Wd^T
            try RMSNorm.forward(x: xr, weight: w.mlpNorm, eps: c.rmsNormEps, out: xnr, rstd: rs)
            let gr = try rows(gate, n), ur = try rows(up, n)
            try DecodeLinear.forward(x: xnr, [(w.gate, gr), (w.up, ur)])
            try lora?.add([(.gate, gr), (.up, ur)], layer: l, x: xnr, rows: n)
            try Activations.swigluForward(a: gr, b: ur, into: gr)
            try DecodeLinear.forward(x: gr, [(w.down, xr)], accumulate: true)
            try lora?.add([(.down, xr)], layer: l, x: gr, rows: n)
        }
        // 3. logits for the rows asked for: gather, final norm, LM head
        let m = logitRows.count
        guard m > 0 else { return }
        let hidden = try rows(xn, m), hs = try rows(rstd, m)
        for (j, r) in logitRows.enumerated() {
            guard r >= 0, r < n else { throw TensorError("IncrementalForward: logit row \(r) outside 0..<\(n)") }
            (hidden.pointer + j * c.dim).update(from: xr.pointer + r * c.dim, count: c.dim)
        }
        try RMSNorm.forward(x: hidden, weight: dw.finalNorm, eps: c.rmsNormEps, out: hidden, rstd: hs)
        try DecodeLinear.forward(x: hidden, [(dw.lmHead, logits)])
    }

    /// The first `n` rows of a scratch tensor, as a view.
    @inline(__always) private func rows(_ t: Tensor, _ n: Int) throws -> Tensor {
        try Tensor(storage: t.storage, offset: t.offset, shape: t.rank == 1 ? [n] : [n, t.shape[1]])
    }
}
