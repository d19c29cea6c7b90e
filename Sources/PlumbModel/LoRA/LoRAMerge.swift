// Folding an adapter into its base: W' = W + (alpha / r) B A for every adapted projection (PEFT's
// `merge_and_unload`), so sampling or an export runs the adapted model at the base's cost. In fp32
// the merged model's logits differ from the unmerged pass by rounding only (LoRATests states the
// bound). Dropout does not apply: merging is for inference. The adapter's heads replace the base's.
import PlumbFiles
import PlumbTensor

extension LoRAAdapter {
    /// Adds `sign` * (alpha / r) B A into each adapted weight of `model` (sign -1 undoes a merge, up to rounding).
    public func merge(into model: LlamaModel, sign: Float = 1) throws {
        try requireFits(model.config)
        guard model.baseDType == .fp32 else {
            throw ConfigError("LoRA merge: cannot merge into a \(model.baseDType.rawValue) base (its projections are frozen in \(model.baseDType.rawValue)); merge into `merged(with:)`'s fp32 copy")
        }
        for m in allModules {
            let w = try model.parameters.value(LlamaTensorNames.layer(m.layer, m.target.layerTensor))   // (out, in)
            let outF = m.b.shape[0], inF = m.a.shape[1], r = settings.rank
            // W += sign s B A: (out, in) = (out, r) (r, in)
            Matmul.sgemm(transposeA: false, transposeB: false, m: outF, n: inF, k: r, alpha: sign * settings.scale,
                         a: m.b.pointer, lda: r, b: m.a.pointer, ldb: inF, beta: 1, c: w.pointer, ldc: inF)
        }
    }

    /// A new model holding `base` with this adapter merged in and the adapter's heads (the base is not changed).
    public func merged(with base: LlamaModel, gradients: Bool = true) throws -> LlamaModel {
        let model = try LlamaModel(config: base.config, heads: base.heads.union(heads), gradients: gradients)
        for (name, _) in LlamaTensorNames.table(base.config, heads: base.heads) where model.parameters.contains(name) {
            try model.parameters.value(name).copy(from: try base.value(name))   // a bf16 base's projections widened
        }
        try merge(into: model)
        for name in LoRAAdapter.headNames(heads) { try model.parameters.value(name).copy(from: try parameters.value(name)) }
        return model
    }
}

/// The SHA-256 that names a base: over the trunk and LM head in table order (name, then the values as
/// little-endian fp32) in Hugging Face's rotary layout, so a base read from llama2.c's `.bin` and from
/// its HF export agree; reward and value heads are left out (they belong to an adapter's role). A bf16
/// base hashes the fp32 values of its bf16 weights, so it is told apart from the fp32 base it was
/// rounded from.
public enum BaseChecksum {
    public static func of(_ model: LlamaModel) throws -> String {
        var hash = SHA256()
        let c = model.config
        for (name, _) in LlamaTensorNames.table(c, heads: model.heads) where name != LlamaTensorNames.rewardHead && name != LlamaTensorNames.valueHead {
            var t = try model.value(name)
            if c.rotaryLayout != .halves {
                if name.hasSuffix(LlamaTensorNames.LayerTensor.q.rawValue + ".weight") {
                    t = try RotaryPermutation.convert(t, heads: c.nHeads, from: c.rotaryLayout, to: .halves)
                } else if name.hasSuffix(LlamaTensorNames.LayerTensor.k.rawValue + ".weight") {
                    t = try RotaryPermutation.convert(t, heads: c.nKVHeads, from: c.rotaryLayout, to: .halves)
                }
            }
            hash.update(Array(name.utf8))
            hash.update(UnsafeRawBufferPointer(start: t.pointer, count: t.count * MemoryLayout<Float>.stride))
        }
        return hash.finalizeHex()
    }
}
