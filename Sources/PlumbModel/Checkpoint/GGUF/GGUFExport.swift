// A Llama model as a GGUF file for llama.cpp's `llama` architecture (METHODS.md section 14):
//   - names: token_embd, blk.N.attn_norm | attn_q | attn_k | attn_v | attn_output | ffn_norm |
//     ffn_gate | ffn_up | ffn_down, output_norm, output (untied head only), each + ".weight";
//   - dims in GGUF order (a (out, in) weight is [in, out]);
//   - q and k rows in the adjacent-pairs rotary layout that llama.cpp's llama architecture rotates
//     (RotaryPermutation, as llama.cpp's convert_hf_to_gguf.py permutes Hugging Face's halves);
//   - matrices in the chosen type, norms and other 1-D tensors in F32; under Q8_0 a matrix whose
//     row length is not a multiple of 32 is written as F16 (a notice says which);
//   - the `general.*`, `llama.*` and `tokenizer.*` keys, the tokenizer given by the caller.
import PlumbTensor

/// The SentencePiece vocabulary as GGUF's `tokenizer.ggml.*` keys hold it.
public struct GGUFVocabulary: Sendable {
    public var tokens: [[UInt8]]     // pieces in SentencePiece's spelling ("▁" for a space)
    public var scores: [Float]
    /// 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte (SentencePiece's numbering).
    public var types: [Int32]
    public var bosID: Int32
    public var eosID: Int32
    public var unkID: Int32
    public var addBOS: Bool
    /// A Jinja template (`tokenizer.chat_template`), or nil.
    public var chatTemplate: String?

    public init(tokens: [[UInt8]], scores: [Float], types: [Int32], bosID: Int32, eosID: Int32, unkID: Int32,
                addBOS: Bool = true, chatTemplate: String? = nil) {
        self.tokens = tokens; self.scores = scores; self.types = types
        self.bosID = bosID; self.eosID = eosID; self.unkID = unkID; self.addBOS = addBOS; self.chatTemplate = chatTemplate
    }
}

public enum GGUFExport {
    /// llama.cpp's `llama_ftype` for each export type (general.file_type).
    static func fileType(_ type: GGUFTensorType) -> UInt32 {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .q8_0: return 7
        }
    }

    /// GGUF name of each Hugging Face tensor of block i.
    static let layerNames: [(LlamaTensorNames.LayerTensor, String)] = [
        (.attentionNorm, "attn_norm"), (.q, "attn_q"), (.k, "attn_k"), (.v, "attn_v"), (.o, "attn_output"),
        (.mlpNorm, "ffn_norm"), (.gate, "ffn_gate"), (.up, "ffn_up"), (.down, "ffn_down"),
    ]

    /// The file for `tensors` (Hugging Face names, in `config.rotaryLayout`) with matrices in `type`;
    /// `notices` names each matrix kept in F16 because Q8_0 cannot hold its rows.
    public static func file(config: LlamaConfig, tensors: [String: Tensor], type: GGUFTensorType, vocabulary: GGUFVocabulary,
                            name: String) throws -> (file: GGUFFile, notices: [String]) {
        try LlamaCheckpoint.check(tensors, config: config, heads: .lm, source: "GGUF export")
        let v = vocabulary
        guard v.tokens.count == config.vocabSize, v.scores.count == config.vocabSize, v.types.count == config.vocabSize else {
            throw CheckpointError("GGUF export: the tokenizer has \(v.tokens.count) pieces (\(v.scores.count) scores, \(v.types.count) types) "
                + "but the model's vocab_size is \(config.vocabSize)")
        }
        var pairs = tensors
        try RotaryPermutation.convertAll(&pairs, config: config, from: config.rotaryLayout, to: .adjacentPairs)
        var out: [GGUFTensor] = [], notices: [String] = []
        func add(_ ggufName: String, _ hfName: String) {
            let t = pairs[hfName]!
            var chosen = t.rank == 1 ? .f32 : type
            if chosen == .q8_0 && t.shape[t.rank - 1] % 32 != 0 {
                chosen = .f16
                notices.append("\(ggufName) (\(hfName), shape \(t.shape)): rows of \(t.shape[t.rank - 1]) values do not split into Q8_0 blocks of 32; written as F16")
            }
            let data = withExtendedLifetime(t) { GGUFEncoding.encode(UnsafeBufferPointer(t.buffer), type: chosen) }
            out.append(GGUFTensor(name: ggufName, dims: t.shape.reversed(), type: chosen, data: data))
        }
        add("token_embd.weight", LlamaTensorNames.embedding)
        for i in 0..<config.nLayers {
            for (leaf, short) in layerNames { add("blk.\(i).\(short).weight", LlamaTensorNames.layer(i, leaf)) }
        }
        add("output_norm.weight", LlamaTensorNames.finalNorm)
        if !config.tieWordEmbeddings { add("output.weight", LlamaTensorNames.lmHead) }
        return (GGUFFile(metadata: metadata(config, type: type, vocabulary: v, name: name), tensors: out), notices)
    }

    static func metadata(_ c: LlamaConfig, type: GGUFTensorType, vocabulary v: GGUFVocabulary, name: String) -> [(key: String, value: GGUFValue)] {
        var kv: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .text("llama")),
            ("general.name", .text(name)),
            ("general.file_type", .uint32(fileType(type))),
        ]
        if type == .q8_0 { kv.append(("general.quantization_version", .uint32(2))) }
        kv += [
            ("general.alignment", .uint32(UInt32(GGUFFile.defaultAlignment))),
            ("llama.vocab_size", .uint32(UInt32(c.vocabSize))),
            ("llama.context_length", .uint32(UInt32(c.maxSeqLen))),
            ("llama.embedding_length", .uint32(UInt32(c.dim))),
            ("llama.block_count", .uint32(UInt32(c.nLayers))),
            ("llama.feed_forward_length", .uint32(UInt32(c.hiddenDim))),
            ("llama.rope.dimension_count", .uint32(UInt32(c.headDim))),
            ("llama.attention.head_count", .uint32(UInt32(c.nHeads))),
            ("llama.attention.head_count_kv", .uint32(UInt32(c.nKVHeads))),
            ("llama.attention.layer_norm_rms_epsilon", .float32(c.rmsNormEps)),
            ("llama.rope.freq_base", .float32(c.ropeTheta)),
            ("tokenizer.ggml.model", .text("llama")),
            ("tokenizer.ggml.tokens", .stringArray(v.tokens)),
            ("tokenizer.ggml.scores", .float32Array(v.scores)),
            ("tokenizer.ggml.token_type", .int32Array(v.types)),
            ("tokenizer.ggml.bos_token_id", .uint32(UInt32(v.bosID))),
            ("tokenizer.ggml.eos_token_id", .uint32(UInt32(v.eosID))),
            ("tokenizer.ggml.unknown_token_id", .uint32(UInt32(v.unkID))),
            ("tokenizer.ggml.add_bos_token", .bool(v.addBOS)),
            ("tokenizer.ggml.add_eos_token", .bool(false)),
            ("tokenizer.ggml.add_space_prefix", .bool(true)),
        ]
        if let template = v.chatTemplate { kv.append(("tokenizer.chat_template", .text(template))) }
        return kv
    }
}
