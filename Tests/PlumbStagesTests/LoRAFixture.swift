// Fixtures shared by the LoRA tests: an adapter whose B is drawn (a fresh B is zero, which makes the
// gradient with respect to A zero) and a small packed batch of three examples over two rows.

import PlumbModel
import PlumbTensor

enum LoRAFixture {
    /// An adapter with PEFT's init, then B drawn from N(0, 0.3^2) with the seed after `seed`.
    static func trainedAdapter(config: LlamaConfig, settings: LoRASettings, seed: UInt64) throws -> LoRAAdapter {
        let adapter = try LoRAAdapter(config: config, settings: settings, seed: seed)
        var rng = SeededRNG(seed: seed + 1)
        for m in adapter.allModules { rng.fillNormal(m.b, std: 0.3) }
        return adapter
    }

    /// Three examples (5, 4 and 7 tokens) packed into 2 rows of 10, targets shifted by one.
    static func packedBatch() throws -> BatchLayout {
        func example(_ t: [Int32]) throws -> BatchLayout.Example {
            try BatchLayout.Example(tokens: t, targets: Array(t.dropFirst()) + [CrossEntropy.ignoreIndex])
        }
        return try BatchLayout.packed([example([1, 5, 9, 3, 7]), example([2, 4, 4, 8]), example([3, 2, 30, 31, 6, 11, 12])],
                                      batchSize: 2, seqLen: 10, padToken: 0)
    }
}
