// The rotary layout permutation of q_proj / k_proj rows.
//
// Within each head of width d, Meta's original code and llama2.c rotate adjacent pairs (2j, 2j+1),
// Hugging Face rotates halves (j, j + d/2). Hugging Face's convert_llama_weights_to_hf.py permutes
//   w.view(n_heads, d/2, 2, in).transpose(1, 2).reshape(n_heads * d, in)
// i.e. halves row  h*d + s*(d/2) + j  holds pairs row  h*d + 2j + s  (s in {0, 1}, j < d/2).
// The two layouts give the same attention scores; only the stored row order differs.
import PlumbTensor

public enum RotaryPermutation {
    /// Rows of `w` (heads * d, in) reordered from `source` to `target` layout; a new tensor.
    public static func convert(_ w: Tensor, heads: Int, from source: RotaryLayout, to target: RotaryLayout) throws -> Tensor {
        guard w.rank == 2, heads > 0, w.shape[0] % heads == 0, (w.shape[0] / heads) % 2 == 0 else {
            throw TensorError("rotary permutation: shape \(w.shape) does not split into \(heads) heads of even width")
        }
        if source == target { return w.copy() }
        let d = w.shape[0] / heads, cols = w.shape[1], half = d / 2
        let out = Tensor(zeros: w.shape)
        for h in 0..<heads {
            for s in 0..<2 {
                for j in 0..<half {
                    let halvesRow = h * d + s * half + j
                    let pairsRow = h * d + 2 * j + s
                    let (dst, src) = target == .halves ? (halvesRow, pairsRow) : (pairsRow, halvesRow)
                    (out.pointer + dst * cols).update(from: w.pointer + src * cols, count: cols)
                }
            }
        }
        return out
    }

    /// Every q_proj / k_proj in `tensors` converted from `source` to `target` layout.
    public static func convertAll(_ tensors: inout [String: Tensor], config: LlamaConfig,
                                  from source: RotaryLayout, to target: RotaryLayout) throws {
        guard source != target else { return }
        for i in 0..<config.nLayers {
            for (leaf, heads) in [(LlamaTensorNames.LayerTensor.q, config.nHeads), (.k, config.nKVHeads)] {
                let name = LlamaTensorNames.layer(i, leaf)
                guard let w = tensors[name] else { throw CheckpointError("rotary permutation: missing tensor '\(name)'") }
                tensors[name] = try convert(w, heads: heads, from: source, to: target)
            }
        }
    }
}
