// The weights as the decoder reads them: each matrix in fp32 (the model's own tensors, shared, no
// copy) or in 8 bits (`Q8Matrix`, W8A32: int8 blocks of 32 with one scale each, widened inside the
// matrix-vector kernel). Norms stay fp32; the LM head, tied to the embedding or not, is a matrix like
// the others. Under q8 the decoder reads exactly the weights of a Q8_0 GGUF export (GGUFExport): the
// embedding rows it gathers are the Q8_0-dequantised rows (one row per token, so kept as an fp32
// table), and a matrix whose row length is not a multiple of 32 is rounded through fp16, as the
// export writes it (`keptInF32` names those). A bf16 base's projections are read in bf16 under f32
// (`MatVec.BF16`, widened inside the kernel), and quantised from their fp32 values under q8.
import PlumbTensor

/// How `plumb generate`, `chat`, the samplers and the benchmarks hold the decoder's weights.
public enum DecodeWeightFormat: String, Codable, CaseIterable, Sendable {
    /// The model's fp32 tensors.
    case f32
    /// 8-bit weights in blocks of 32 with one scale each (GGUF Q8_0's quantisation).
    case q8
}

/// One weight matrix (out, in) of the decoder.
public enum DecodeMatrix {
    case f32(Tensor)
    case q8(Q8Matrix)
    case bf16(BF16Matrix)

    public var outFeatures: Int {
        switch self {
        case .f32(let t): return t.shape[0]
        case .q8(let q): return q.rows
        case .bf16(let b): return b.rows
        }
    }

    public var inFeatures: Int {
        switch self {
        case .f32(let t): return t.shape[1]
        case .q8(let q): return q.inFeatures
        case .bf16(let b): return b.inFeatures
        }
    }

    /// A bf16 base's projection in `format`: itself under f32, quantised from its fp32 values under q8.
    static func make(_ w: BF16Matrix, _ format: DecodeWeightFormat) throws -> DecodeMatrix {
        format == .f32 ? .bf16(w) : try make(w.widened(), format)
    }

    /// `w` in `format`; under q8 a row length not divisible by 32 gives an fp32 copy rounded through fp16.
    static func make(_ w: Tensor, _ format: DecodeWeightFormat) throws -> DecodeMatrix {
        guard format == .q8 else { return .f32(w) }
        guard Q8Matrix.canQuantise(inFeatures: w.shape[1]) else {
            let rounded = Tensor(zeros: w.shape)
            for i in 0..<w.count { rounded.pointer[i] = Float(Float16(w.pointer[i])) }
            return .f32(rounded)
        }
        return .q8(try Q8Matrix(quantising: w))
    }

    /// The embedding table as the decoder gathers it: the model's, or under q8 its Q8_0-dequantised
    /// rows (fp16-rounded when the width is not a multiple of 32).
    static func embedding(_ e: Tensor, _ format: DecodeWeightFormat) throws -> Tensor {
        switch try make(e, format) {
        case .f32(let t): return t
        case .bf16(let b): return b.widened()
        case .q8(let q):
            let table = Tensor(zeros: e.shape)
            for v in 0..<q.rows { (table.pointer + v * q.inFeatures).update(from: q.dequantisedRow(v), count: q.inFeatures) }
            return table
        }
    }

    /// Asks for the matrix's memory to sit on 2 MB pages (MatVec.preferHugePages).
    func preferHugePages() {
        switch self {
        case .f32(let t): MatVec.preferHugePages(t.storage)
        case .q8(let q): MatVec.preferHugePages(UnsafeRawPointer(q.quants), byteCount: q.rows * q.inFeatures)
        case .bf16(let b): MatVec.preferHugePages(UnsafeRawPointer(b.bits), byteCount: b.byteCount)
        }
    }
}

public struct DecodeLayerWeights {
    public let attentionNorm: Tensor  // (C)
    public let wq: DecodeMatrix       // (H * D, C)
    public let wk: DecodeMatrix       // (KVH * D, C)
    public let wv: DecodeMatrix       // (KVH * D, C)
    public let wo: DecodeMatrix       // (C, H * D)
    public let mlpNorm: Tensor        // (C)
    public let gate: DecodeMatrix     // (F, C)
    public let up: DecodeMatrix       // (F, C)
    public let down: DecodeMatrix     // (C, F)

    var matrices: [(name: String, matrix: DecodeMatrix)] {
        [("q_proj", wq), ("k_proj", wk), ("v_proj", wv), ("o_proj", wo), ("gate_proj", gate), ("up_proj", up), ("down_proj", down)]
    }
}

public struct DecodeWeights {
    public let format: DecodeWeightFormat
    public let embedding: Tensor      // (V, C), fp32 (Q8_0-dequantised under q8): one row gathered per token
    public let layers: [DecodeLayerWeights]
    public let finalNorm: Tensor      // (C)
    public let lmHead: DecodeMatrix   // (V, C)

    /// The decoder's view of `weights` in `format`; fp32 shares the tensors, q8 quantises each matrix
    /// (so a change to the model's weights needs a new DecodeWeights under q8).
    public init(_ weights: LlamaWeights, format: DecodeWeightFormat) throws {
        guard let head = weights.lmHead else { throw TensorError("DecodeWeights: the model has no LM head") }
        self.format = format
        embedding = try DecodeMatrix.embedding(weights.embedding, format)
        finalNorm = weights.finalNorm
        lmHead = try .make(head, format)
        layers = try weights.layers.enumerated().map { l, w in
            if let b = weights.bf16Layers?[l] {
                return DecodeLayerWeights(attentionNorm: w.attentionNorm, wq: try .make(b.wq, format), wk: try .make(b.wk, format),
                                          wv: try .make(b.wv, format), wo: try .make(b.wo, format), mlpNorm: w.mlpNorm,
                                          gate: try .make(b.gate, format), up: try .make(b.up, format), down: try .make(b.down, format))
            }
            return DecodeLayerWeights(attentionNorm: w.attentionNorm, wq: try .make(w.wq, format), wk: try .make(w.wk, format),
                                      wv: try .make(w.wv, format), wo: try .make(w.wo, format), mlpNorm: w.mlpNorm,
                                      gate: try .make(w.gate, format), up: try .make(w.up, format), down: try .make(w.down, format))
        }
    }

    /// Matrices held in fp32 (rounded through fp16) although the format is q8 (row length not
    /// divisible by 32), by role.
    public var keptInF32: [String] {
        guard format == .q8 else { return [] }
        var names: [String] = []
        for (l, layer) in layers.enumerated() {
            for (name, m) in layer.matrices { if case .f32 = m { names.append("layers.\(l).\(name)") } }
        }
        if case .f32 = lmHead { names.append("lm_head") }
        return names
    }

    /// Backs every streamed matrix with 2 MB pages where Linux allows (each storage once).
    func preferHugePages() {
        var seen = Set<ObjectIdentifier>()
        for m in [DecodeMatrix.f32(embedding), lmHead] + layers.flatMap({ $0.matrices.map(\.matrix) }) {
            let id: ObjectIdentifier
            switch m {
            case .f32(let t): id = ObjectIdentifier(t.storage)
            case .q8(let q): id = ObjectIdentifier(q)
            case .bf16(let b): id = ObjectIdentifier(b)
            }
            if seen.insert(id).inserted { m.preferHugePages() }
        }
    }
}
