// A model's next-token logits at every position of one token sequence (`plumb export logits`, which
// pipelines/check-peft.sh compares with transformers): one forward pass of batch 1, optionally through
// a LoRA adapter held unmerged.
import Foundation
import PlumbTensor

extension LlamaModel {
    /// logits[t] (vocabSize) after tokens[0...t].
    public func positionLogits(_ tokens: [Int32], adapter: LoRAAdapter? = nil) throws -> [[Float]] {
        let batch = try BatchLayout.padded([try BatchLayout.Example(tokens: tokens, targets: tokens.map { _ in -1 })],
                                           batchSize: 1, seqLen: tokens.count, padToken: 0)
        let acts = try LlamaActivations(config: config, batchSize: 1, seqLen: tokens.count)
        try forward(batch, acts, adapter: adapter)
        let v = config.vocabSize, logits = acts.logits!   // (T, V)
        return (0..<tokens.count).map { t in Array(UnsafeBufferPointer(start: logits.pointer + t * v, count: v)) }
    }
}
