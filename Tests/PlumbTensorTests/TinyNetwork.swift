// A one-block network composed from the engine's ops, for the equivalence tests:
//   embedding -> RMSNorm -> q/k/v linear -> RoPE -> GQA attention -> o linear (to the vocabulary) -> CE
import XCTest
@testable import PlumbTensor

struct TinyNetwork {
    static let vocab = 11, dim = 8, heads = 4, kvHeads = 2, headDim = 4
    let parameters: ParameterSet
    let rope: RoPETable

    init(seed: UInt64) throws {
        let d = TinyNetwork.dim, qDim = TinyNetwork.heads * TinyNetwork.headDim, kvDim = TinyNetwork.kvHeads * TinyNetwork.headDim
        parameters = try ParameterSet([
            ParameterSpec("embed_tokens.weight", [TinyNetwork.vocab, d], weightDecay: false),   // (V, C)
            ParameterSpec("input_layernorm.weight", [d], weightDecay: false),                    // (C)
            ParameterSpec("q_proj.weight", [qDim, d]),                                           // (H*D, C)
            ParameterSpec("k_proj.weight", [kvDim, d]),                                          // (KVH*D, C)
            ParameterSpec("v_proj.weight", [kvDim, d]),                                          // (KVH*D, C)
            ParameterSpec("o_proj.weight", [TinyNetwork.vocab, qDim]),                           // (V, H*D)
        ])
        var rng = SeededRNG(seed: seed)
        for e in parameters.entries { rng.fillNormal(try parameters.value(of: e), std: 0.5) }
        try parameters.value("input_layernorm.weight").fill(1)
        rope = try RoPETable(headDim: TinyNetwork.headDim, maxPositions: 64)
    }

    /// Activations of one batch shape.
    struct Activations {
        let x, xn, q, k, v, qr, kr, att, logits: Tensor
        let rstd: Tensor   // (B*T)
        let logSumExp: Tensor  // (B, H, T)
        init(b: Int, t: Int) {
            let n = TinyNetwork.self
            x = Tensor(zeros: [b, t, n.dim]); xn = Tensor(zeros: [b, t, n.dim]); rstd = Tensor(zeros: [b * t])
            q = Tensor(zeros: [b, t, n.heads, n.headDim]); qr = Tensor(zeros: q.shape); att = Tensor(zeros: q.shape)
            k = Tensor(zeros: [b, t, n.kvHeads, n.headDim]); kr = Tensor(zeros: k.shape); v = Tensor(zeros: k.shape)
            logits = Tensor(zeros: [b, t, n.vocab]); logSumExp = Tensor(zeros: [b, n.heads, t])
        }
    }

    func p(_ name: String) throws -> Tensor { try parameters.value(name) }

    /// Forward pass; returns the activations with logits filled.
    func forward(_ batch: BatchLayout) throws -> Activations {
        let a = Activations(b: batch.batchSize, t: batch.seqLen)
        try Embedding.forward(table: p("embed_tokens.weight"), tokens: batch.tokens, out: a.x)
        try RMSNorm.forward(x: a.x, weight: p("input_layernorm.weight"), eps: 1e-5, out: a.xn, rstd: a.rstd)
        try Linear.forward(x: a.xn, weight: p("q_proj.weight"), out: a.q)
        try Linear.forward(x: a.xn, weight: p("k_proj.weight"), out: a.k)
        try Linear.forward(x: a.xn, weight: p("v_proj.weight"), out: a.v)
        try RoPE.forward(x: a.q, positions: batch.positions, table: rope, layout: .halves, out: a.qr)
        try RoPE.forward(x: a.k, positions: batch.positions, table: rope, layout: .halves, out: a.kr)
        try Attention.forward(q: a.qr, k: a.kr, v: a.v, segmentIds: batch.segmentIds, out: a.att, logSumExp: a.logSumExp)
        try Linear.forward(x: a.att, weight: p("o_proj.weight"), out: a.logits)
        return a
    }

    /// Backward pass from dlogits, adding into the gradient arena.
    func backward(_ batch: BatchLayout, _ a: Activations, dLogits: Tensor) throws {
        let g = { (name: String) in try self.parameters.trainableGradient(name) }
        let dAtt = Tensor(zeros: a.att.shape), dqr = Tensor(zeros: a.q.shape), dkr = Tensor(zeros: a.k.shape)
        let dq = Tensor(zeros: a.q.shape), dk = Tensor(zeros: a.k.shape), dv = Tensor(zeros: a.v.shape)
        let dxn = Tensor(zeros: a.xn.shape), dx = Tensor(zeros: a.x.shape)
        try Linear.backward(dOut: dLogits, x: a.att, weight: p("o_proj.weight"), dx: dAtt, dWeight: g("o_proj.weight"))
        try Attention.backward(dOut: dAtt, q: a.qr, k: a.kr, v: a.v, out: a.att, logSumExp: a.logSumExp,
                               segmentIds: batch.segmentIds, dq: dqr, dk: dkr, dv: dv)
        try RoPE.backward(dOut: dqr, positions: batch.positions, table: rope, layout: .halves, dx: dq)
        try RoPE.backward(dOut: dkr, positions: batch.positions, table: rope, layout: .halves, dx: dk)
        try Linear.backward(dOut: dq, x: a.xn, weight: p("q_proj.weight"), dx: dxn, dWeight: g("q_proj.weight"))
        try Linear.backward(dOut: dk, x: a.xn, weight: p("k_proj.weight"), dx: dxn, dWeight: g("k_proj.weight"))
        try Linear.backward(dOut: dv, x: a.xn, weight: p("v_proj.weight"), dx: dxn, dWeight: g("v_proj.weight"))
        try RMSNorm.backward(dOut: dxn, x: a.x, weight: p("input_layernorm.weight"), rstd: a.rstd, dx: dx,
                             dWeight: g("input_layernorm.weight"))
        if let dTable = try g("embed_tokens.weight") { try Embedding.backward(dOut: dx, tokens: batch.tokens, dTable: dTable) }
    }

    /// Forward + CE + backward; gradient of gradScale * (sum of NLL) / divisor (default: mean). Returns the mean loss.
    @discardableResult
    func trainStep(_ batch: BatchLayout, gradScale: Float = 1, divisor: Int? = nil) throws -> Float {
        let a = try forward(batch)
        let dLogits = Tensor(zeros: a.logits.shape)
        let (loss, _) = try CrossEntropy.meanLoss(logits: a.logits, targets: batch.targets, dLogits: dLogits,
                                                 gradScale: gradScale, divisor: divisor)
        try backward(batch, a, dLogits: dLogits)
        return loss
    }

    /// Per-token log p(target) (B*T), 0 where ignored.
    func targetLogProbs(_ batch: BatchLayout) throws -> Tensor {
        let a = try forward(batch), lp = Tensor(zeros: [batch.tokenCount])
        try CrossEntropy.targetLogProbs(logits: a.logits, targets: batch.targets, into: lp)
        return lp
    }
}

/// A random example of `length` tokens whose first `promptLength` targets are ignored.
func randomExample(length: Int, promptLength: Int, _ rng: inout SeededRNG) throws -> BatchLayout.Example {
    let tokens = (0..<length).map { _ in Int32(rng.next() % UInt64(TinyNetwork.vocab)) }
    let targets = (0..<length).map { $0 < promptLength ? CrossEntropy.ignoreIndex : Int32(rng.next() % UInt64(TinyNetwork.vocab)) }
    return try BatchLayout.Example(tokens: tokens, targets: targets)
}
