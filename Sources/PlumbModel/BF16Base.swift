// A frozen base stored in bf16: the seven projections of every block (q, k, v, o, gate, up, down,
// about 88% of a 1.1B Llama's weights) are held as bf16 (round to nearest, ties to even; BFloat16),
// half the bytes of fp32, and every product is computed in fp32. Just before a block's products (the
// forward pass, and the backward pass's dX = dY W), its seven matrices are widened (exactly) into one
// fp32 scratch of one block's size that every block of the pass reuses (`BaseLayerScratch`, one per
// LlamaActivations, so passes on different threads never share one). So memory is the bf16 base plus
// one block in fp32, and a pass on the bf16 base computes exactly what the fp32 code computes on the
// bf16-rounded weights, bit for bit (same products, same fp32 operands).
// The embedding, the norms, the LM head and the reward / value heads stay fp32. A bf16 base is
// frozen: it has no gradient arena, so it takes no gradient and no optimiser state.
import PlumbTensor

/// How a model holds its blocks' projection weights.
public enum BaseDType: String, Codable, CaseIterable, Sendable {
    case fp32
    case bf16

    /// The projections held in bf16 when the model's base is bf16.
    static let bf16Leaves: [LlamaTensorNames.LayerTensor] = [.q, .k, .v, .o, .gate, .up, .down]
}

/// One block's seven projections in bf16; every matrix is (out, in).
public struct BF16LayerMatrices {
    public let wq, wk, wv, wo, gate, up, down: BF16Matrix

    init(config c: LlamaConfig) throws {
        func m(_ leaf: LlamaTensorNames.LayerTensor) throws -> BF16Matrix { try BF16Matrix(zeros: leaf.shape(c)) }
        wq = try m(.q); wk = try m(.k); wv = try m(.v); wo = try m(.o); gate = try m(.gate); up = try m(.up); down = try m(.down)
    }

    /// The matrix of `leaf`, or nil for a norm (held in fp32).
    public subscript(_ leaf: LlamaTensorNames.LayerTensor) -> BF16Matrix? {
        switch leaf {
        case .q: return wq
        case .k: return wk
        case .v: return wv
        case .o: return wo
        case .gate: return gate
        case .up: return up
        case .down: return down
        case .attentionNorm, .mlpNorm: return nil
        }
    }
}

/// One block's projections widened to fp32, reused by every block of a pass.
final class BaseLayerScratch {
    private var tensors: [LlamaTensorNames.LayerTensor: Tensor] = [:]
    /// The q matrix of the block whose weights the scratch holds (nil: none yet); kept, so never reused.
    private var held: BF16Matrix?

    /// Layer `l`'s weights: the norms from `norms` (fp32 views), the projections widened from `matrices`.
    func widen(_ matrices: BF16LayerMatrices, norms: LlamaLayerWeights) throws -> LlamaLayerWeights {
        func w(_ leaf: LlamaTensorNames.LayerTensor) throws -> Tensor {
            let m = matrices[leaf]!
            let t: Tensor
            if let kept = tensors[leaf], kept.shape == m.shape { t = kept } else { t = Tensor(zeros: m.shape); tensors[leaf] = t }
            if held !== matrices.wq { try m.widen(into: t) }
            return t
        }
        let out = LlamaLayerWeights(attentionNorm: norms.attentionNorm, wq: try w(.q), wk: try w(.k), wv: try w(.v), wo: try w(.o),
                                    mlpNorm: norms.mlpNorm, gate: try w(.gate), up: try w(.up), down: try w(.down))
        held = matrices.wq
        return out
    }
}

extension LlamaModel {
    /// Layer `l`'s weights as the pass on `acts` reads them: the model's own tensors (fp32 base), or
    /// the bf16 projections widened into `acts`' scratch.
    func layerWeights(_ l: Int, _ acts: LlamaActivations) throws -> LlamaLayerWeights {
        guard let matrices = weights.bf16Layers?[l] else { return weights.layers[l] }
        return try acts.baseScratch.widen(matrices, norms: weights.layers[l])
    }

}

extension LlamaModel {
    /// Whether `name` is held in bf16 by a model whose base is `dtype`.
    static func isBF16(name: String, _ dtype: BaseDType) -> Bool {
        dtype == .bf16 && BaseDType.bf16Leaves.contains { name.hasPrefix("model.layers.") && name.hasSuffix(".\($0.rawValue).weight") }
    }

    /// The bf16 matrix holding weight `name`, or nil when it is an fp32 parameter.
    func bf16Matrix(_ name: String) throws -> BF16Matrix? {
        guard let layers = weights.bf16Layers, LlamaModel.isBF16(name: name, baseDType) else { return nil }
        for (l, m) in layers.enumerated() {
            for leaf in BaseDType.bf16Leaves where LlamaTensorNames.layer(l, leaf) == name { return m[leaf] }
        }
        throw CheckpointError("model: no bf16 weight named '\(name)'")
    }

    /// Rounds the projections of `tensors` into a bf16 base's matrices (nothing for an fp32 base).
    func loadBF16(_ tensors: [String: Tensor], source: String) throws {
        guard let layers = weights.bf16Layers else { return }
        for (l, m) in layers.enumerated() {
            for leaf in BaseDType.bf16Leaves {
                let name = LlamaTensorNames.layer(l, leaf)
                guard let t = tensors[name] else { throw CheckpointError("\(source): tensor '\(name)' is missing") }
                guard t.shape == m[leaf]!.shape else {
                    throw CheckpointError("\(source): tensor '\(name)': expected shape \(m[leaf]!.shape), found \(t.shape)")
                }
                try m[leaf]!.assign(rounding: t)
            }
        }
    }
}

extension LlamaModel {
    /// Every weight of the model, fp32 parameters and bf16 projections alike.
    public var weightCount: Int {
        parameters.totalCount + (weights.bf16Layers ?? []).reduce(0) { n, m in n + BaseDType.bf16Leaves.reduce(0) { $0 + m[$1]!.count } }
    }

    /// Bytes of the weights' values: 4 per fp32 parameter, 2 per bf16 weight.
    public var weightBytes: Int {
        let bf16 = weightCount - parameters.totalCount
        return parameters.totalCount * MemoryLayout<Float>.stride + bf16 * MemoryLayout<UInt16>.stride
    }
}
