// llama2.c's legacy ".bin" checkpoint (version 0), as written by export.py `legacy_export` and
// memory-mapped by run.c `memory_map_weights`:
//   header   7 x int32: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//            (vocab_size < 0 means the classifier is NOT shared with the embedding)
//   fp32     token_embedding (V, C)
//            rms_att (L, C), wq (L, C, C), wk (L, kv, C), wv (L, kv, C), wo (L, C, C),
//            rms_ffn (L, C), w1 (L, H, C), w2 (L, C, H), w3 (L, H, C), rms_final (C)
//            freq_cis_real (seq_len, head_dim/2), freq_cis_imag (seq_len, head_dim/2)   [ignored by run.c]
//            wcls (V, C)  only when not shared
// Each weight is (out, in), layer after layer. q/k rows are in Meta's adjacent-pairs rotary layout;
// import converts them to the config's layout (Hugging Face halves by default), export converts back.
// run.c hard-codes rope_theta 10000 and rms eps 1e-5, so export refuses other values.
import Foundation
import PlumbFiles
import PlumbTensor

public enum Llama2cFormat {
    /// Order of the per-layer tensors in the file.
    static let layerOrder: [LlamaTensorNames.LayerTensor] = [.attentionNorm, .q, .k, .v, .o, .mlpNorm, .gate, .down, .up]

    /// The file bytes for a model whose `tensors` have Hugging Face names in `config.rotaryLayout`.
    public static func encode(config: LlamaConfig, tensors: [String: Tensor]) throws -> Data {
        guard config.ropeTheta == 10000, config.rmsNormEps == 1e-5 else {
            throw CheckpointError("llama2.c export: run.c assumes rope_theta 10000 and rms_norm_eps 1e-5; this model has \(config.ropeTheta) and \(config.rmsNormEps)")
        }
        try LlamaCheckpoint.check(tensors, config: config, heads: .lm, source: "llama2.c export")
        var pairs = tensors
        try RotaryPermutation.convertAll(&pairs, config: config, from: config.rotaryLayout, to: .adjacentPairs)
        let shared = config.tieWordEmbeddings
        let header: [Int32] = [config.dim, config.hiddenDim, config.nLayers, config.nHeads, config.nKVHeads,
                               shared ? config.vocabSize : -config.vocabSize, config.maxSeqLen].map { Int32($0) }
        var out = Data()
        for v in header { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func append(_ t: Tensor) {
            for v in t.buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        append(pairs[LlamaTensorNames.embedding]!)
        for leaf in layerOrder {
            for i in 0..<config.nLayers { append(pairs[LlamaTensorNames.layer(i, leaf)]!) }
        }
        append(pairs[LlamaTensorNames.finalNorm]!)
        let (cos, sin) = ropeTables(config)
        append(cos); append(sin)
        if !shared { append(pairs[LlamaTensorNames.lmHead]!) }
        return out
    }

    public static func write(config: LlamaConfig, tensors: [String: Tensor], to url: URL) throws {
        try AtomicFile.write([try encode(config: config, tensors: tensors)], to: url)
    }

    /// Reads a legacy `.bin`; tensors come back with Hugging Face names in `layout`.
    public static func read(_ url: URL, layout: RotaryLayout = .halves) throws -> (config: LlamaConfig, tensors: [String: Tensor]) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw CheckpointError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        return try decode(data, source: url.path, layout: layout)
    }

    public static func decode(_ data: Data, source: String, layout: RotaryLayout = .halves) throws -> (config: LlamaConfig, tensors: [String: Tensor]) {
        guard data.count >= 28 else { throw CheckpointError("\(source): \(data.count) bytes is too short for a llama2.c header (28 bytes)") }
        let h: [Int] = (0..<7).map { i in data.withUnsafeBytes { Int(Int32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) } }
        var config = LlamaConfig(dim: h[0], hiddenDim: h[1], nLayers: h[2], nHeads: h[3], nKVHeads: h[4],
                                 vocabSize: abs(h[5]), maxSeqLen: h[6], tieWordEmbeddings: h[5] > 0, rotaryLayout: .adjacentPairs)
        do { try config.validate() } catch let e as ConfigError {
            throw CheckpointError("\(source): llama2.c header \(h) is not a valid model: \(e.description)")
        }
        // The size the header implies, checked before any table is built: a 28-byte header can name
        // millions of layers or sizes whose product overflows.
        guard let floats = fileFloats(config) else {
            throw CheckpointError("\(source): header \(h) implies more bytes than a file can hold, file has \(data.count)")
        }
        guard data.count == 28 + 4 * floats else {
            throw CheckpointError("\(source): header \(h) implies \(28 + 4 * floats) bytes, file has \(data.count)")
        }
        let table = fileTable(config)
        var tensors: [String: Tensor] = [:]
        var at = 28
        data.withUnsafeBytes { raw in
            for (name, shape) in table {
                let t = Tensor(zeros: shape)
                for k in 0..<t.count {
                    t.pointer[k] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4 * k, as: UInt32.self)))
                }
                at += 4 * t.count
                if let name { tensors[name] = t }
            }
        }
        try RotaryPermutation.convertAll(&tensors, config: config, from: .adjacentPairs, to: layout)
        config.rotaryLayout = layout
        return (config, tensors)
    }

    /// The number of floats after the header (the sum over `fileTable`), or nil when it overflows.
    private static func fileFloats(_ c: LlamaConfig) -> Int? {
        let perLayer = CheckedCount.sum(layerOrder.map { leaf in CheckedCount.product(leaf.shape(c)) })
        let embedding = CheckedCount.product([c.vocabSize, c.dim])
        let total = CheckedCount.sum([embedding, CheckedCount.product([c.nLayers, perLayer]), c.dim,
                                      CheckedCount.product([2, c.maxSeqLen, c.headDim / 2]), c.tieWordEmbeddings ? 0 : embedding])
        return CheckedCount.product([total, 4]).flatMap { $0 <= Int.max - 28 ? total : nil }
    }

    /// (name, shape) in file order; the rope tables have no name (read and dropped).
    private static func fileTable(_ c: LlamaConfig) -> [(name: String?, shape: [Int])] {
        var out: [(String?, [Int])] = [(LlamaTensorNames.embedding, [c.vocabSize, c.dim])]
        for leaf in layerOrder {
            for i in 0..<c.nLayers { out.append((LlamaTensorNames.layer(i, leaf), leaf.shape(c))) }
        }
        out.append((LlamaTensorNames.finalNorm, [c.dim]))
        out.append((nil, [c.maxSeqLen, c.headDim / 2]))
        out.append((nil, [c.maxSeqLen, c.headDim / 2]))
        if !c.tieWordEmbeddings { out.append((LlamaTensorNames.lmHead, [c.vocabSize, c.dim])) }
        return out
    }

    /// model.py's freqs_cos / freqs_sin: angle(t, j) = t * theta^(-2j/d), t < seq_len, j < d/2.
    static func ropeTables(_ c: LlamaConfig) -> (Tensor, Tensor) {
        let half = c.headDim / 2
        let cos = Tensor(zeros: [c.maxSeqLen, half]), sin = Tensor(zeros: [c.maxSeqLen, half])
        for t in 0..<c.maxSeqLen {
            for j in 0..<half {
                let freq = 1.0 / Foundation.pow(Float(c.ropeTheta), Float(2 * j) / Float(c.headDim))
                let angle = Float(t) * freq
                cos.pointer[t * half + j] = Foundation.cos(angle)
                sin.pointer[t * half + j] = Foundation.sin(angle)
            }
        }
        return (cos, sin)
    }
}
