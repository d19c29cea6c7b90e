// Mixture weights of SFT data sources (Llama 2 keeps earlier rounds' data when fine-tuning on
// rejection-sampling output; TigerBot mixes sources by weight): import stage i's training
// demonstrations appear w_i times per epoch - floor(w_i) full copies plus a seeded share
// w_i - floor(w_i) of them, chosen by a hash of (seed, stage, demonstration id) so the choice does
// not depend on record order. Weight 0 drops a source; 1 is the default.
import PlumbData
import PlumbTensor

public struct DemonstrationMixture: Sendable {
    public let weights: [Double]
    let seed: UInt64

    /// `weights` empty means 1 for each of `stages` sources; otherwise one weight per source, each >= 0.
    public init(weights: [Double], stages: Int, seed: UInt64) throws {
        if weights.isEmpty {
            self.weights = Array(repeating: 1, count: stages)
        } else {
            guard weights.count == stages else {
                throw StageError("sft: \(weights.count) data weights for \(stages) --data stages; give one weight per --data, in the same order")
            }
            if let bad = weights.first(where: { !($0 >= 0) || !$0.isFinite }) {
                throw StageError("sft: data weight \(bad) must be a finite number >= 0")
            }
            self.weights = weights
        }
        self.seed = seed
    }

    /// The records of source `stage` as they enter the training set: whole copies, then the share.
    public func apply<Record>(_ records: [Record], stage: Int, id: (Record) -> String) -> [Record] {
        let w = weights[stage]
        let copies = Int(w.rounded(.down)), share = w - w.rounded(.down)
        var out: [Record] = []
        for _ in 0..<copies { out += records }
        if share > 0 {
            let salt = seed ^ (0xC2B2_AE3D_27D4_EB4F &* UInt64(stage + 1))
            out += records.filter { r in
                var rng = SeededRNG(seed: FNV1a64.hash(id(r)) ^ salt)
                return rng.uniformDouble() < share
            }
        }
        return out
    }
}
