// What rounding a base's projections to bf16 changes, measured on its weights: the SHA-256 of the
// fp32 base (so an adapter trained on one is recognised on the other), the largest |w - bf16(w)| and
// the relative RMS difference sqrt(sum (w - bf16(w))^2 / sum w^2) over the seven projections of every
// block (bf16 keeps 8 significant bits, so the relative difference of one weight is at most 2^-8).
import Foundation
import PlumbTensor

public struct BF16RoundingRecord: Sendable, Equatable {
    /// `BaseChecksum` of the fp32 base the bf16 one was (or would be) rounded from.
    public let sourceSHA256: String
    /// max |w - bf16(w)| over the projections.
    public let maxAbsDifference: Float
    /// sqrt(sum (w - bf16(w))^2 / sum w^2) over the projections.
    public let relativeRMSDifference: Double

    /// The record of rounding `fp32`'s projections (an fp32 model; nothing is changed).
    public static func of(_ fp32: LlamaModel) throws -> BF16RoundingRecord {
        guard fp32.baseDType == .fp32 else { throw ConfigError("bf16 rounding: the model's projections are already \(fp32.baseDType.rawValue)") }
        var maxAbs: Float = 0, squaredDifference = 0.0, squared = 0.0
        for l in 0..<fp32.config.nLayers {
            for leaf in BaseDType.bf16Leaves {
                let w = try fp32.parameters.value(LlamaTensorNames.layer(l, leaf))
                for i in 0..<w.count {
                    let x = w.pointer[i], d = x - BFloat16.float(BFloat16.round(x))
                    maxAbs = max(maxAbs, abs(d))
                    squaredDifference += Double(d) * Double(d); squared += Double(x) * Double(x)
                }
            }
        }
        return BF16RoundingRecord(sourceSHA256: try BaseChecksum.of(fp32), maxAbsDifference: maxAbs,
                                  relativeRMSDifference: squared > 0 ? (squaredDifference / squared).squareRoot() : 0)
    }

    /// E.g. "max |w - bf16(w)| 1.9e-03, relative RMS difference 1.1e-03 over the blocks' projections".
    public var summary: String {
        String(format: "max |w - bf16(w)| %.2e, relative RMS difference %.2e over the blocks' projections",
               Double(maxAbsDifference), relativeRMSDifference)
    }
}

extension LlamaModel {
    /// A frozen model with `base`'s weights and heads, the projections rounded to bf16 (same config),
    /// recording what the rounding changed (`bf16Rounding`).
    public static func bf16(rounding base: LlamaModel) throws -> LlamaModel {
        let record = try BF16RoundingRecord.of(base)
        let model = try LlamaModel(config: base.config, heads: base.heads, gradients: false, baseDType: .bf16)
        try model.load(try base.tensors(), source: "the fp32 base")
        model.bf16Rounding = record
        return model
    }
}
